/*
 * The Gulpease readability index of an Italian text, as the server computes
 * it (wagtail_helpdesk/ai/readability.py: the same counting rules, kept in
 * step by tests/ai/test_readability.py). Defines window.helpdeskGulpease
 * (and module.exports under Node, for that test).
 */
(function (root) {
    'use strict';

    const MIN_WORDS = 10;
    const ABBREVIATIONS = new Set([
        'sig', 'sigg', 'sig.ra', 'sig.na', 'dott', 'dott.ssa', 'prof', 'prof.ssa', 'avv', 'ing',
        'geom', 'arch', 'rag', 'on', 'egr', 'gent', 'gent.mo', 'gent.ma', 'spett', 'ecc', 'etc',
        'es', 'p.es', 'cfr', 'art', 'artt', 'n', 'nr', 'num', 'pag', 'pagg', 'tel', 'cell',
        'fax', 'ca', 'c.a', 'v.le', 'p.za', 'c.so', 'loc', 'fraz', 'prot', 'rif', 'all', 'ss',
        's.p.a', 's.r.l', 'p.iva', 'c.f', 'lett',
    ]);
    const LINK = /(?:https?:\/\/|www\.)\S*[^\s.,;:!?)\]»"']|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
    const PARAGRAPHS = /\n[^\S\n]*\n\s*/;
    const CHUNK_END = /([.!?\u2026]+)[)\]"'»”’]*$/u;
    const LEADING = /^[(\["'«“‘]+/u;
    const WORD = /[\p{L}\p{N}]+/gu;
    const HAS_WORD = /[\p{L}\p{N}]/u;
    const LETTER = /\p{L}/gu;
    const INITIAL = /^\p{L}$/u;

    function counts(text) {
        const normalised = (text || '').normalize('NFC').replace(LINK, ' link ');
        let sentences = 0;
        normalised.split(PARAGRAPHS).forEach((paragraph) => {
            let wordsSinceEnd = false;
            paragraph.split(/\s+/).filter(Boolean).forEach((chunk) => {
                if (HAS_WORD.test(chunk)) wordsSinceEnd = true;
                const end = CHUNK_END.exec(chunk);
                if (!end) return;
                if (end[1] === '.') {
                    const stem = chunk.slice(0, end.index).replace(LEADING, '').toLowerCase();
                    if (ABBREVIATIONS.has(stem) || INITIAL.test(stem)) return;
                }
                if (wordsSinceEnd) {
                    sentences += 1;
                    wordsSinceEnd = false;
                }
            });
            if (wordsSinceEnd) sentences += 1;
        });
        const words = (normalised.match(WORD) || []).length;
        const letters = (normalised.match(LETTER) || []).length;
        return [sentences, words, letters];
    }

    function gulpease(text) {
        const [sentences, words, letters] = counts(text);
        if (words < MIN_WORDS) return null;
        const value = 89 + (300 * sentences - 10 * letters) / words;
        return Math.max(0, Math.min(100, Math.floor(value + 0.5)));
    }

    const api = { counts, gulpease, MIN_WORDS };
    if (typeof module !== 'undefined' && module.exports) module.exports = api;
    else root.helpdeskGulpease = api;
})(typeof window !== 'undefined' ? window : this);
