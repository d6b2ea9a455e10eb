"""OpenID Federation metadata policy: what a superior's ``metadata`` and
``metadata_policy`` do to a subordinate's metadata. Pure functions, no I/O.

The superior's ``metadata`` comes first: for each entity type, its values
replace the subordinate's own values of the same parameters
(:func:`apply_metadata`); the policy is then applied to the result.

Operators, applied in this order to each parameter: ``value`` (force; null
removes), ``add`` (union into a list), ``default`` (when absent), then the
checks ``one_of``, ``subset_of`` (the value becomes the intersection),
``superset_of`` and ``essential`` (must be present). A violation raises
:class:`PolicyError`. Policies of several superiors are applied from the
trust anchor down.
"""

KNOWN = ("value", "add", "default", "one_of", "subset_of", "superset_of", "essential")


class PolicyError(ValueError):
    pass


def _as_list(value):
    return value if isinstance(value, list) else [value]


def apply_metadata(metadata, values):
    """``metadata`` (a dict, not changed) with the superior's ``values`` for
    the same entity type in place of its own."""
    if not isinstance(values or {}, dict):
        raise PolicyError("the superior's metadata is not an object")
    return {**(metadata or {}), **(values or {})}


def apply_policy(metadata, policy):
    """``metadata`` (a dict, not changed) with ``policy`` applied."""
    result = dict(metadata or {})
    for name, operators in (policy or {}).items():
        if not isinstance(operators, dict):
            raise PolicyError(f"policy of {name!r} is not an object")
        unknown = set(operators) - set(KNOWN)
        if unknown:
            raise PolicyError(f"unknown policy operator(s) {sorted(unknown)} for {name!r}")
        _apply_one(result, name, operators)
    return result


def _apply_one(result, name, ops):
    if "value" in ops:
        if ops["value"] is None:
            result.pop(name, None)
        else:
            result[name] = ops["value"]
    if "add" in ops:
        current = _as_list(result.get(name, []))
        result[name] = current + [v for v in _as_list(ops["add"]) if v not in current]
    if "default" in ops and name not in result:
        result[name] = ops["default"]
    present = name in result
    if "one_of" in ops and present and result[name] not in ops["one_of"]:
        raise PolicyError(f"{name!r}: {result[name]!r} is not one of {ops['one_of']!r}")
    if "subset_of" in ops and present:
        allowed = ops["subset_of"]
        result[name] = [v for v in _as_list(result[name]) if v in allowed]
        if not result[name]:
            del result[name]
            present = False
    if "superset_of" in ops and present:
        missing = [v for v in ops["superset_of"] if v not in _as_list(result[name])]
        if missing:
            raise PolicyError(f"{name!r} lacks the required values {missing!r}")
    if ops.get("essential") and name not in result:
        raise PolicyError(f"{name!r} is essential and missing")


def apply_policies(metadata, policies):
    """Apply ``policies`` (the trust anchor's first) one after the other."""
    for policy in policies:
        metadata = apply_policy(metadata, policy)
    return metadata
