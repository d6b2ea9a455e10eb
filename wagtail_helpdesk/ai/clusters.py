"""Grouped reports: open reports that are probably about the same problem
(the same pothole reported ten times), largest group first, for supervisors.

Two open reports are joined when they are of the same problem type, within
``AI_DUPLICATE_RADIUS_M`` of each other, and their texts agree: the cosine of
their stored embeddings at least ``AI_CLUSTER_MIN_COSINE`` (two stored texts,
so higher than the query-to-text cosine of the likely duplicates, and
computed without running the model); without a vector for
either, ``AI_DUPLICATE_MIN_WORDS`` meaningful words in common or the same
spot (within ``AI_CLUSTER_SAME_PLACE_M``). Groups are the connected
components of these pairs (single linkage). Reports an operator already
linked as duplicates are joined to their primary whatever the text (also
those without a place).

Cost, bounded: one query reads at most ``AI_CLUSTER_MAX_REPORTS`` open reports
(the most recent) with their stored vectors; in memory, each problem type's
placed reports are compared all at once with numpy — the distance matrix,
the cosine matrix (one matrix product), the connected components by label
propagation — so a dense area costs matrix operations, not a Python loop over
its pairs (2,000 reports of one type in one street: tens of milliseconds).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from ..conf import get_setting
from ..models import Kind
from ..workflow import OPEN_STATUSES, Status
from .territory import haversine
from .text import stems


@dataclass
class Report:
    """What the grouped reports' page shows of one report."""

    pk: int
    reference: str
    subject: str
    status: str
    when: datetime
    lat: float | None
    lng: float | None
    duplicate_of_id: int | None
    office_id: int | None = None
    text: str = ""
    vector: object = None

    @property
    def status_label(self):
        return Status(self.status).label


@dataclass
class Cluster:
    category_id: int
    category: str
    reports: list = field(default_factory=list)  # oldest first

    @property
    def size(self):
        return len(self.reports)

    @property
    def newest(self):
        return max(r.when for r in self.reports)

    @property
    def oldest(self):
        return self.reports[0]

    @property
    def primary(self):
        """The report the others would duplicate: the oldest not linked as a
        duplicate itself (else the oldest)."""
        return next((r for r in self.reports if r.duplicate_of_id is None), self.reports[0])

    @property
    def unlinked(self):
        """The reports not linked to the group's primary yet."""
        primary = self.primary
        return [r for r in self.reports
                if r.pk != primary.pk and r.duplicate_of_id != primary.pk]

    @property
    def centre(self):
        """The mean of the placed reports, rounded to ~100 m (None: none placed)."""
        placed = [(r.lat, r.lng) for r in self.reports if r.lat is not None]
        if not placed:
            return None
        return (round(sum(p[0] for p in placed) / len(placed), 3),
                round(sum(p[1] for p in placed) / len(placed), 3))


class _Sets:
    """Union-find over report ids."""

    def __init__(self, keys):
        self.parent = {k: k for k in keys}

    def find(self, k):
        root = k
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[k] != root:
            self.parent[k], k = root, self.parent[k]
        return root

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


class _Alike:
    """Whether two nearby reports' texts agree (vectors, else words or spot)."""

    def __init__(self):
        self.min_cosine = float(get_setting("AI_CLUSTER_MIN_COSINE"))
        self.min_words = int(get_setting("AI_DUPLICATE_MIN_WORDS"))
        self.same_place = float(get_setting("AI_CLUSTER_SAME_PLACE_M"))
        self._stems = {}

    def stems(self, report):
        found = self._stems.get(report.pk)
        if found is None:
            found = self._stems[report.pk] = set(stems(report.text))
        return found

    def __call__(self, a, b, distance):
        if a.vector is not None and b.vector is not None:
            return float(a.vector @ b.vector) >= self.min_cosine
        if distance <= self.same_place:
            return True
        return len(self.stems(a) & self.stems(b)) >= self.min_words


def _components(reports, radius, alike):
    """``[[pk, …]]``: the groups of one problem type's placed ``reports``
    joined by nearness and agreeing texts (single linkage), computed with
    matrices: the distances and the cosines of every pair at once, then the
    connected components by label propagation. Pairs without both vectors
    are judged one by one (:class:`_Alike`), the rest never are."""
    import numpy as np

    n = len(reports)
    if n < 2:
        return []
    lat = np.array([r.lat for r in reports], dtype=np.float64)
    lng = np.array([r.lng for r in reports], dtype=np.float64)
    distance = haversine(lat[:, None], lng[:, None], lat[None, :], lng[None, :])
    near = distance <= radius
    np.fill_diagonal(near, False)
    has = np.array([r.vector is not None for r in reports])
    joined = np.zeros((n, n), dtype=bool)
    if has.any():
        dim = next(r.vector for r in reports if r.vector is not None).shape[0]
        matrix = np.vstack([r.vector if r.vector is not None else np.zeros(dim, np.float32)
                            for r in reports]).astype(np.float32)
        both = has[:, None] & has[None, :]
        joined = near & both & ((matrix @ matrix.T) >= alike.min_cosine)
        rest = near & ~both
    else:
        rest = near
    for i, j in zip(*np.nonzero(np.triu(rest, 1)), strict=True):
        if alike(reports[i], reports[j], float(distance[i, j])):
            joined[i, j] = joined[j, i] = True
    labels = np.arange(n)
    while True:  # each report takes the smallest label among itself and its neighbours
        spread = np.where(joined, labels[None, :], n).min(axis=1)
        updated = np.minimum(labels, spread)
        updated = updated[updated]  # jump along the chains
        if np.array_equal(updated, labels):
            break
        labels = updated
    groups = defaultdict(list)
    for index, label in enumerate(labels):
        groups[int(label)].append(reports[index].pk)
    return [pks for pks in groups.values() if len(pks) > 1]


def _read(tickets):
    """Open reports of ``tickets`` (a queryset), most recent first, with
    their category's name and stored vector: one query."""
    from .embedder import get_embedder

    embedder = get_embedder()
    rows = (tickets.filter(kind=Kind.REPORT, status__in=OPEN_STATUSES)
            .order_by("-created_at", "-pk")
            .values_list("pk", "short_code", "subject", "description", "status",
                         "submitted_at", "created_at", "latitude", "longitude",
                         "duplicate_of_id", "office_id", "report_category_id",
                         "report_category__name",
                         "embedding__model", "embedding__vector")
            [: int(get_setting("AI_CLUSTER_MAX_REPORTS"))])
    reports, categories = [], {}
    for (pk, code, subject, description, status, submitted, created, lat, lng, dup, office_id,
         category_id, category_name, model, blob) in rows:
        vector = None
        if embedder is not None and blob is not None and model == embedder.name:
            from . import vectors

            vector = vectors.unpack(blob)
            if vector.shape[0] != embedder.dim:
                vector = None
        categories[category_id] = category_name
        reports.append((category_id, Report(
            pk=pk, reference=code or f"#{pk}", subject=subject, status=status,
            when=submitted or created, duplicate_of_id=dup, office_id=office_id,
            lat=float(lat) if lat is not None else None,
            lng=float(lng) if lng is not None and lat is not None else None,
            text=f"{subject} {description}", vector=vector)))
    return reports, categories


def report_clusters(tickets):
    """Groups of two or more open reports of ``tickets`` (a queryset: those
    the viewer may see, maybe one office's) about the same problem: largest
    first, then the most recently reported."""
    reports, categories = _read(tickets)
    by_pk = {r.pk: (category_id, r) for category_id, r in reports}
    sets = _Sets(by_pk)
    radius = float(get_setting("AI_DUPLICATE_RADIUS_M"))
    alike = _Alike()
    placed = defaultdict(list)
    for category_id, report in reports:
        if report.lat is not None:
            placed[category_id].append(report)
        if report.duplicate_of_id in by_pk:
            sets.union(report.pk, report.duplicate_of_id)
    for group in placed.values():
        for pks in _components(group, radius, alike):
            for pk in pks[1:]:
                sets.union(pks[0], pk)
    members = defaultdict(list)
    for pk, (category_id, report) in by_pk.items():
        members[sets.find(pk)].append((category_id, report))
    clusters = []
    for group in members.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda item: (item[1].when, item[1].pk))
        category_id = group[0][0]  # a linked duplicate of another type joins its primary's
        clusters.append(Cluster(category_id=category_id, category=categories[category_id],
                                reports=[r for _c, r in group]))
    clusters.sort(key=lambda c: (-c.size, -c.newest.timestamp(), c.oldest.pk))
    return clusters
