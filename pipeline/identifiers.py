"""Find and normalise scholarly identifiers (DOI, PMID, PMCID, arXiv, OpenAlex) in text. Pure.

Normalised forms (the contract): DOI lower-case, no resolver prefix or ``doi:`` label,
percent-decoded, no trailing punctuation, a closing bracket kept only when balanced inside the
DOI; PMID digits; PMCID ``PMC`` + digits; arXiv id without version; OpenAlex ``W`` + digits.

Only DOIs and ``PMC1234567`` name themselves. A PMID, an arXiv id or an OpenAlex id is a bare
number (or ``W`` + number) and is taken only where its context says so: a label
(``PMID: 27172445``), a resolver URL (``https://pubmed.ncbi.nlm.nih.gov/27172445/``) or, for
structured inputs, a field the reader labels for us. That is what keeps years, page ranges and
grant numbers out.

One compiled pattern scans the text once. Its alternatives all begin with a rare anchor
(``10.`` for DOIs, ``p``/``P`` for PMID/PMC/PubMed, ``x``/``X`` for arXiv and OpenAlex), so the
regex engine skips most characters cheaply.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import unquote

__all__ = [
    "Found",
    "find_identifiers",
    "normalise",
    "normalise_arxiv",
    "normalise_doi",
    "normalise_openalex",
    "normalise_pmcid",
    "normalise_pmid",
]


class Found(NamedTuple):
    """One identifier found in text: ``text[start:end]`` is it as printed (label-less core)."""

    scheme: str
    value: str
    start: int
    end: int


# --------------------------------------------------------------------------------------------
# Normalisers
# --------------------------------------------------------------------------------------------

# DOI: "10." + registrant (4-9 digits, optionally dotted sub-prefixes) + "/" + suffix.
_DOI_SHAPE = re.compile(r"10\.\d{4,9}(?:\.\d+)*/\S+")
_DOI_LEAD = re.compile(
    r"^(?:(?:https?://)?(?:dx\.)?doi\.org/|doi\s*:\s*|info:doi/|urn:doi:)+", re.IGNORECASE
)
# A URL's path or query after the DOI is the publisher's, not the DOI's (Wiley /abstract,
# Springer .pdf, bioRxiv .full, ?query, #fragment, &key=value of an OpenURL, or the "&" that
# ends a query string's doi=10.1/x& parameter, a supplement's file in ACS's and Taylor &
# Francis' /doi/suppl/10.1021/x/suppl_file/x_si_001.pdf).
_DOI_URL_TAIL = re.compile(
    r"(?:[?#].*|&(?:[A-Za-z_]+=.*)?|/suppl_file/.*"
    r"|/(?:abstract|full|pdf|epdf|pdfdirect|fulltext|full-text|html|summary|references|meta"
    r"|figures|suppinfo|citedby|issuetoc|toc|tables|info|metrics|epub)/?"
    # a citation export of the page (Frontiers /bibTex, /endNote, /xml/nlm) or its supplement
    # files (Springer Nature's .../art%3A10.1038%2Fs41586-…/MediaObjects/…_ESM.mp4)
    r"|/(?:bibtex|endnote|ris|refworks|reference|text|xml)(?:/nlm)?/?|/MediaObjects/[^/]*"
    r"|\.full(?:\.pdf)?|\.abstract|\.short|\.pdf)$",
    re.IGNORECASE,
)
# Anything that might need more than stripping trailing punctuation: brackets, URL syntax, a
# word at the end that could be a publisher's path (/abstract, .pdf).
_SUSPECT = re.compile(r"[()\[\]{}<>?#&%\\]|[/.][A-Za-z-]+/?[.,;:!?]*$|(?i:/mediaobjects/)")
# A TeX escape inside a DOI, as BibTeX files (DBLP: "10.1007/11880561\_13", Better BibTeX:
# "\%3C") and Markdown print "_", "%", "&", "#" and "$": the DOI has the character alone.
_TEX_ESCAPE = re.compile(r"\\([_%&#$])")
_TRAILING = ".,;:!?"
_OPENERS = {"(": ")", "[": "]", "{": "}", "<": ">"}
_CLOSERS = frozenset(_OPENERS.values())
_BRACKETS = re.compile(r"[()\[\]{}<>]")


def _cut_unbalanced(s: str) -> str:
    """Cut ``s`` at its first closing bracket that has no opener inside ``s``."""
    if not _BRACKETS.search(s):
        return s  # the common case: no bracket, nothing to walk
    stack: list[str] = []
    for i, ch in enumerate(s):
        if ch in _OPENERS:
            stack.append(_OPENERS[ch])
        elif ch in _CLOSERS:
            if not stack or stack[-1] != ch:
                return s[:i]
            stack.pop()
    return s


def _trim_doi(s: str) -> str:
    """Drop what follows a DOI in running text: unbalanced closers, punctuation, URL tails."""
    if _SUSPECT.search(s) is None:
        return s.rstrip(_TRAILING)  # the common case, decided by one cheap search
    s = _cut_unbalanced(s).rstrip(_TRAILING)
    while True:
        before = s
        s = _DOI_URL_TAIL.sub("", s).rstrip(_TRAILING)
        if s == before:
            return s


def normalise_doi(s: str) -> str | None:
    """``'https://doi.org/10.1000/XYZ%3C1%3E.'`` -> ``'10.1000/xyz<1>'``; None if not a DOI.
    TeX escapes are undone (``10.1007/11880561\\_13`` -> ``10.1007/11880561_13``)."""
    s = _DOI_LEAD.sub("", s.strip())
    i = s.find("10.")
    if i < 0:
        return None
    s = s[i:]  # e.g. a publisher URL: https://onlinelibrary.wiley.com/doi/full/10.1111/...
    if "\\" in s:
        s = _TEX_ESCAPE.sub(r"\1", s)
    s = _trim_doi(s)
    for _ in range(3):  # decode to a fixed point, so normalising twice changes nothing
        if "%" not in s or unquote(s) == s:
            break
        s = _trim_doi(unquote(s))
    s = s.lower()
    return s if _DOI_SHAPE.fullmatch(s) else None


_PMID_LEAD = re.compile(
    r"^(?:(?:https?://)?(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)"
    r"|pmid\s*[:=]?\s*|pubmed\s*(?:id)?\s*[:=]?\s*)",
    re.IGNORECASE,
)
_PMID_SHAPE = re.compile(r"[1-9]\d{0,8}")


def normalise_pmid(s: str) -> str | None:
    """``'PMID: 27172445'`` or a pubmed URL -> ``'27172445'``; None if not a PMID."""
    s = _PMID_LEAD.sub("", str(s).strip()).rstrip("/.,;: ").lstrip("0")
    return s if _PMID_SHAPE.fullmatch(s) else None


_PMCID_LEAD = re.compile(r"^(?:\S*/articles/|pmcid\s*[:=]?\s*|pmc\s*[:=]\s*)", re.IGNORECASE)
_PMCID_SHAPE = re.compile(r"(?:PMC)?([1-9]\d{0,9})", re.IGNORECASE)


def normalise_pmcid(s: str) -> str | None:
    """``'PMC: 11727498'``, ``'pmc11727498'`` or a PMC article URL -> ``'PMC11727498'``."""
    s = _PMCID_LEAD.sub("", str(s).strip()).rstrip("/.,;: ")
    m = _PMCID_SHAPE.fullmatch(s)
    return f"PMC{m.group(1)}" if m else None


_ARXIV_LEAD = re.compile(
    r"^(?:(?:https?://)?(?:(?:www|export)\.)?arxiv\.org/(?:abs|pdf|html|format)/"
    r"|(?:https?://(?:dx\.)?doi\.org/)?10\.48550/arxiv\.|arxiv\s*:?\s*)",
    re.IGNORECASE,
)
_ARXIV_NEW = re.compile(r"(\d{2}(?:0[1-9]|1[0-2])\.\d{4,5})(?:v\d+)?")
_ARXIV_OLD = re.compile(r"([a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]{2})?/\d{7})(?:v\d+)?")


def normalise_arxiv(s: str) -> str | None:
    """``'arXiv:2101.00001v2'`` -> ``'2101.00001'``; ``'hep-th/9901001'`` stays as is."""
    s = _ARXIV_LEAD.sub("", str(s).strip()).rstrip("/.,;: ")
    if s.lower().endswith(".pdf"):
        s = s[:-4]
    m = _ARXIV_NEW.fullmatch(s) or _ARXIV_OLD.fullmatch(s)
    return m.group(1) if m else None


_OPENALEX_LEAD = re.compile(
    r"^(?:(?:https?://)?(?:api\.)?openalex\.org/(?:works/)?|openalex\s*(?:id)?\s*[:=]?\s*)",
    re.IGNORECASE,
)
_OPENALEX_SHAPE = re.compile(r"[Ww](\d{2,12})")


def normalise_openalex(s: str) -> str | None:
    """``'https://openalex.org/W2741809807'`` -> ``'W2741809807'``; None for author ids etc."""
    s = _OPENALEX_LEAD.sub("", str(s).strip()).rstrip("/.,;: ")
    m = _OPENALEX_SHAPE.fullmatch(s)
    return f"W{m.group(1)}" if m else None


_NORMALISERS = {
    "doi": normalise_doi,
    "pmid": normalise_pmid,
    "pmcid": normalise_pmcid,
    "arxiv": normalise_arxiv,
    "openalex": normalise_openalex,
}


def normalise(scheme: str, value: str) -> str | None:
    """Normalise ``value`` as ``scheme`` (doi, pmid, pmcid, arxiv, openalex); None if invalid.

    Raises ValueError for an unknown scheme.
    """
    try:
        fn = _NORMALISERS[scheme]
    except KeyError:
        raise ValueError(f"unknown identifier scheme {scheme!r}") from None
    return fn(value)


# --------------------------------------------------------------------------------------------
# Scanning
# --------------------------------------------------------------------------------------------

# Between a label and its value: blanks, one separator (":", "=", "-", "#"), an opening brace or
# quote (BibTeX/CSV) and at most one line break (seed 000 prints "PMID" and the number on the
# next line).
_SEP = r"[ \t]*(?:[:=#-][ \t]*)?[{\"]?[ \t]*(?:\r?\n[ \t]*)?"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_ARXIV_ID = (
    r"(?P<ax>\d{2}(?:0[1-9]|1[0-2])\.\d{4,5}(?:v\d+)?(?!\d)"
    r"|[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?(?!\d))"
)
# The DOI suffix: printable ASCII except quotes and angle brackets, which end a DOI in prose and
# markup, but a SICI "<463::AID-JBM6>" group (no "/" after "<", so "</a>" never joins) is kept,
# and so is an apostrophe inside a word ("10.1234/o'neil.2020"): a closing quote follows the
# DOI's last character and precedes punctuation or space, never a letter or digit. A comma,
# semicolon or bar before another "10.nnnn" separates two DOIs ("ids=10.1/a,10.2/b"). An "&"
# that starts a query parameter ends the DOI, so the next parameter's DOI is found too:
# publishers' link-outs print the page's own DOI and then the cited work's ("/servlet/linkout?
# …&doi=10.1002%2Fjfd.12505&key=10.3389%2Ffmicb.2015.01274", Wiley, Taylor & Francis).
_DOI_BODY = (
    r"(?:[!#-%(-+\--:=?-{}~]|&(?!(?:amp;)?[A-Za-z_][A-Za-z0-9_]{0,31}=)"
    r"|[,;|](?!10\.\d{4})|<(?!/)[^\s<>\"']{1,80}>"
    r"|(?<=[A-Za-z])'(?=[A-Za-z0-9]))"
)

# The pattern is a top-level alternation whose branches each start with one literal character
# ("1", "P", "p", "X", "x"), so the regex engine finds candidates with its charset prefilter in C
# and goes straight to the branch of that character (a pattern starting with a lookbehind or a
# group is tried at every position: 10x slower). Lookbehinds after the anchor check what came
# before it. Group names are unique, so the P and p branches (same body) name theirs p…/P….
_DOI = r"0\.(?<![0-9]10\.)(?P<doi>\d{4,9}(?:\.\d+)*(?:/|%2[Ff])" + _DOI_BODY + r"{1,500})"


# After a labelled number: the rest of a DOI ("PMID 10.1001/abc" labels nothing; the DOI stays).
_DOI_NEXT = r"\.\d{4,9}(?:\.\d+)*(?:/|%2[Ff])"


def _p_branch(c: str) -> str:
    # PMCID: "PMC1234567", "PMC: 1234567", "PMCID: PMC1234567"; "PMC: 2010 Dec 17" is a date.
    # PMID: a label ("PMID", "PubMed ID", "PubMed:") or a PubMed URL (an Entrez one too);
    # Europe PMC's MED/ URL.
    return (
        rf"(?<![A-Za-z0-9_]{c})(?:[Mm][Cc](?:[Ii][Dd])?{_SEP}(?:[Pp][Mm][Cc])?"
        rf"(?!(?:19|20)\d\d[ \t]+{_MONTH})(?P<{c}mc>[1-9]\d{{0,9}})(?!\d|{_DOI_NEXT})"
        rf"|[Mm][Ii][Dd]{_SEP}(?P<{c}mid>[1-9]\d{{0,8}})(?!\d|{_DOI_NEXT})"
        rf"|[Uu][Bb][Mm][Ee][Dd](?:[ \t]*[Ii][Dd]{_SEP}|[ \t]*[:=][ \t]*(?:\r?\n[ \t]*)?|/"
        # NCBI's Entrez link (Springer's and Nature's "PubMed" links):
        # "query.fcgi?cmd=Retrieve&db=PubMed&dopt=Abstract&list_uids=32581360"
        rf"|\.ncbi\.nlm\.nih\.gov/|(?:&(?:amp;)?dopt=[A-Za-z]{{1,20}})?&(?:amp;)?list_uids=)"
        rf"(?P<{c}ubmed>[1-9]\d{{0,8}})(?![\d.]))"
        rf"|(?<=[Ee][Uu][Rr][Oo][Pp][Ee]{c})[Mm][Cc]\.org/(?:abstract|article)/MED/"
        rf"(?P<{c}mcmed>[1-9]\d{{0,8}})(?!\d)"
    )


def _x_branch(c: str) -> str:
    # arXiv: the "x" of "arXiv" is the anchor (rarer than "a"); OpenAlex: the "x" of "openalex".
    return (
        rf"(?<=[Aa][Rr]{c})[Ii][Vv](?:\.org/(?:abs|pdf|html|format)/"
        rf"|[ \t]*(?:[Ii][Dd][ \t]*)?[:=][ \t]*[{{\"]?|[ \t]+|\."
        # "ArXiv, abs/1810.04805" (Semantic Scholar, ACL), "ArXiv ePrint: 0807.3577" (IOP),
        # "Arxiv preprint: 1106.6251" / "arXiv preprint 1606.01865" (natbib styles, ICML)
        rf"|,[ \t]*(?:abs/)?|[ \t]+(?:[Ee]-?|[Pp]re)[Pp]rint[ \t]*:?[ \t]*)"
        + _ARXIV_ID.replace("(?P<ax>", f"(?P<{c}ax>")
        + rf"|(?<=[Oo][Pp][Ee][Nn][Aa][Ll][Ee]{c})(?:\.org/(?:works/)?|"
        rf"[ \t]*(?:[Ii][Dd])?{_SEP})(?P<{c}oa>[Ww]\d{{2,12}})(?!\d)"
    )


_SCAN = re.compile(
    rf"1(?:{_DOI})|P(?:{_p_branch('P')})|p(?:{_p_branch('p')})"
    rf"|X(?:{_x_branch('X')})|x(?:{_x_branch('x')})"
)

_ARXIV_DOI = "10.48550/arxiv."
_PMID_GROUPS = frozenset({"pmid", "Pmid", "pubmed", "Pubmed", "pmcmed", "Pmcmed"})
_PMC_GROUPS = frozenset({"pmc", "Pmc"})
_OPENALEX_GROUPS = frozenset({"xoa", "Xoa"})


def find_identifiers(text: str, pos: int = 0, endpos: int | None = None) -> list[Found]:
    """Every identifier in ``text[pos:endpos]``, in order of position.

    >>> find_identifiers("PMID: 39766419 PMC: 11727498. DOI: 10.3390/brainsci14121220.")
    [Found('pmid', '39766419', 6, 14), Found('pmcid', 'PMC11727498', 20, 28), ...]

    Context before ``pos`` is looked at (lookbehinds), so a caller scanning a window of a larger
    text gets the same answer as scanning the whole. Each identifier is reported at its value
    (``text[start:end]`` is e.g. ``27172445`` for ``PMID: 27172445``).
    """
    out: list[Found] = []
    add, new = out.append, tuple.__new__  # tuple.__new__(Found, …): no Python-level __new__ call
    for m in _SCAN.finditer(text, pos, len(text) if endpos is None else endpos):
        group = m.lastgroup
        # Inlined fast paths: the pattern has checked the shape of everything but DOIs and
        # arXiv versions, so most matches need no normaliser call (this loop is the hot one).
        # DOIs first: about half of all matches.
        if group == "doi":
            raw = m.group()  # the match is the DOI: "10." + the group
            if _SUSPECT.search(raw) is None:  # fast path: only trailing punctuation to drop
                raw = raw.rstrip(_TRAILING)
                start = m.start()
                if raw[-1] != "/" and not raw.startswith("10.48550/"):  # arXiv's: slow path
                    add(new(Found, ("doi", raw.lower(), start, start + len(raw))))
                    continue
            out.extend(_doi_found(m))
        elif group in _PMID_GROUPS:
            add(new(Found, ("pmid", m.group(group), *m.span(group))))
        elif group in _PMC_GROUPS:
            add(new(Found, ("pmcid", "PMC" + m.group(group), *m.span(group))))
        elif group in _OPENALEX_GROUPS:
            add(new(Found, ("openalex", "W" + m.group(group)[1:], *m.span(group))))
        else:
            value = normalise_arxiv(m.group(group))
            if value is not None:
                add(Found("arxiv", value, m.start(group), m.end(group)))
    return out


def _doi_found(m: re.Match[str]) -> tuple[Found, ...]:
    raw = _trim_doi(m.group())  # the match is the DOI: "1" + the group
    if "%" in raw or "\\" in raw:
        value = normalise_doi(raw)
    else:  # fast path: nothing left to decode, only the suffix must have survived trimming
        # ("10.1000/References" loses "/References" as a publisher's path: no slash is left)
        slash = raw.find("/")
        value = raw.lower() if 0 <= slash < len(raw) - 1 else None
    if value is None:
        return ()
    start = m.start()
    doi = Found("doi", value, start, start + len(raw))
    if not value.startswith(_ARXIV_DOI):
        return (doi,)
    # 10.48550/arXiv.2101.00001 is arXiv's own DOI: the work is also arXiv 2101.00001.
    arxiv = normalise_arxiv(value[len(_ARXIV_DOI) :])
    if arxiv is None:
        return (doi,)
    return (doi, Found("arxiv", arxiv, start + len(_ARXIV_DOI), start + len(raw)))
