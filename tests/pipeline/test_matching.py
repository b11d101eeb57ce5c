"""pipeline.matching: candidates validated against the reference string, real cases.

Every string and candidate below is real: the strings from PLOS JATS reference lists and
CrossRef/reference-matching-evaluation's datasets, the candidates' metadata from the records
Crossref holds for them (tests/fixtures/README, "matching")."""

from __future__ import annotations

from dataclasses import replace

from pipeline.matching import MARGIN, decide, evidence, is_valid
from pipeline.records import Candidate
from pipeline.refstring import RefString


def cand(doi, title, authors, year, container, volume=None, page=None, **kw) -> Candidate:
    years = (year,) if isinstance(year, int) else tuple(year)
    return Candidate(
        source="crossref", doi=doi, title=title, authors=tuple(authors), years=years,
        containers=(container,) if container else (), volume=volume, page=page, **kw,
    )  # fmt: skip


WOODSON = cand(
    "10.1016/j.cbpa.2005.02.004",
    "Metal ions and RNA folding: a highly charged topic with a dynamic future",
    ["Woodson"], 2005, "Current Opinion in Chemical Biology", "9", "104-109",
)  # fmt: skip


def test_the_cited_work_is_matched_in_vancouver_style():
    ref = RefString(
        "Woodson SA. Metal ions and RNA folding: a highly charged topic with a dynamic future. "
        "Curr Opin Chem Biol. 2005;9: 104–109."
    )
    d = decide(ref, [WOODSON])
    assert d.status == "matched" and d.winner.doi == "10.1016/j.cbpa.2005.02.004"
    assert d.score > 0.9


def test_an_abbreviated_journal_counts_as_its_full_name():
    ref = RefString("Woodson SA (2005) Metal ions and RNA folding. Curr Opin Chem Biol 9: 104-109.")
    assert evidence(ref, WOODSON).container == 1.0


def test_same_authors_same_year_another_paper_is_not_matched():
    # Kawahashi & Shiho published both in 2000; the search ranks the "Iron" paper high
    ref = RefString(
        "Kawahashi, Nobuo, and Hiroshi Shiho. 2000. “Copper and Copper Compounds as Coatings on "
        "Polystyrene Particles and as Hollow Spheres.” Journal of Materials Chemistry 10 (10): "
        "2294–2297."
    )
    iron = cand(
        "10.1006/jcis.2000.6789",
        "Iron Compounds as Coatings on Polystyrene Latex and as Hollow Spheres",
        ["Shiho", "Kawahashi"], 2000, "Journal of Colloid and Interface Science", "226", "91-97",
    )  # fmt: skip
    ev = evidence(ref, iron)
    assert ev.author == 1.0 and ev.year == 1.0 and ev.title > 0.9  # close on words...
    assert not is_valid(ev, ref)  # ...but its volume and pages are not the string's
    assert decide(ref, [iron]).status == "unmatched"


def test_a_book_review_carrying_the_books_title_is_not_the_book():
    ref = RefString(
        "Mayor, A., Felton, D., & Johnston, S. I. (2001). Haunted Greece and Rome: Ghost Stories "
        "from Classical Antiquity. The Journal of American Folklore, 114(451), 110."
    )
    review = cand(
        "10.1353/jaf.2001.0074",
        "Haunted Greece and Rome: Ghost Stories from Classical Antiquity, and: Restless Dead: "
        "Encounters between the Living and Dead in Ancient Greece (review)",
        ["Mayor"], 2001, "Journal of American Folklore", "114", "110-112",
    )  # fmt: skip
    assert "review" in evidence(ref, review).veto
    assert decide(ref, [review]).status == "unmatched"


def test_a_correction_notice_is_not_the_corrected_article():
    ref = RefString(
        "Wang X, Guo S, Zhao L (2013) Synthesis of composite molecular sieve and its catalytic "
        "performances. Bull Korean Chem Soc 34: 3829-3834."
    )
    notice = cand(
        "10.5012/bkcs.2014.35.1.300",
        "Correction: Synthesis of composite molecular sieve and its catalytic performances",
        ["Wang", "Guo"], 2013, "Bulletin of the Korean Chemical Society", "34", "3829",
    )  # fmt: skip
    assert decide(ref, [notice]).status == "unmatched"
    cited = RefString("Wang X (2013) Correction: Synthesis of composite molecular sieve and its "
                      "catalytic performances. Bull Korean Chem Soc 34: 3829.")  # fmt: skip
    assert decide(cited, [notice]).status == "matched"  # the string cites the notice itself


def test_a_whole_book_is_not_the_chapter_whose_pages_are_cited():
    ref = RefString("Williams, R. (1971). TheTechnocomplex. Politics and Technology, 18–23.")
    book = cand("10.1007/978-1-349-01385-2", "Politics and Technology", ["Williams"], 1971, None,
                type="book")  # fmt: skip
    assert "whole book" in evidence(ref, book).veto


def test_a_year_off_by_one_is_online_first_not_a_contradiction():
    ref = RefString("Woodson SA. Metal ions and RNA folding: a highly charged topic with a dynamic "
                    "future. Curr Opin Chem Biol. 2004;9: 104–109.")  # fmt: skip
    ev = evidence(ref, WOODSON)
    assert ev.year == 0.5 and ev.veto is None
    assert decide(ref, [WOODSON]).status == "matched"


def test_another_year_in_the_string_vetoes_the_candidate():
    ref = RefString("Woodson SA. Metal ions and RNA folding: a highly charged topic with a dynamic "
                    "future. Curr Opin Chem Biol. 2011;9: 104–109.")  # fmt: skip
    assert "year" in evidence(ref, WOODSON).veto


def test_one_work_registered_under_two_dois_is_ambiguous():
    ref = RefString("Anikonov, Y. E. (2005). New formulae for solutions and coefficients of kinetic "
                    "equations. Journal of Inverse and Ill-Posed Problems, 13(4), 303–306.")  # fmt: skip
    title = "New formulae for solutions and coefficients of kinetic equations"
    a = cand("10.1163/156939405775201673", title, ["Anikonov"], 2005,
             "Journal of Inverse and Ill-posed Problems", "13", "303-306")  # fmt: skip
    b = cand("10.1515/156939405775201673", title, ["Anikonov"], 2005,
             "Journal of Inverse and Ill-posed Problems", "13", "303-306")  # fmt: skip
    d = decide(ref, [a, b])
    assert d.status == "ambiguous" and d.winner is None and "fit equally well" in d.reason


def test_a_clear_winner_beats_a_valid_runner_up_by_the_margin():
    ref = RefString("Woodson SA. Metal ions and RNA folding: a highly charged topic with a dynamic "
                    "future. Curr Opin Chem Biol. 2005;9: 104–109.")  # fmt: skip
    weaker = cand("10.9999/reprint", WOODSON.title, ["Woodson"], 2005, "Reprints", None, None)
    d = decide(ref, [weaker, WOODSON])
    assert d.status == "matched" and d.winner.doi == WOODSON.doi
    assert d.scored[0][1] - d.scored[1][1] >= MARGIN


def test_without_a_title_the_first_page_must_agree():
    # ACS style prints no title: author, year, journal, volume and first page decide
    ref = RefString("(1) Shea, M. J.; Compton, R. N. Physical Review B 1993, 47, 9967–9970.")
    right = cand("10.1103/physrevb.47.9967", "Surface-plasmon ejection of Ag+ ions from laser "
                 "irradiation of a roughened silver surface", ["Shea", "Compton"], 1993,
                 "Physical Review B", "47", "9967-9970")  # fmt: skip
    other = cand("10.1103/physrevb.47.1234", "Another paper", ["Shea"], 1993,
                 "Physical Review B", "47", "1234-1240")  # fmt: skip
    assert decide(ref, [right]).status == "matched"
    assert decide(ref, [other]).status == "unmatched"


def test_a_candidate_without_a_title_or_authors_is_judged_on_what_it_has():
    ref = RefString("Woodson SA. Metal ions and RNA folding. Curr Opin Chem Biol. 2005;9:104.")
    bare = Candidate(source="crossref", doi="10.1/x")
    ev = evidence(ref, bare)
    assert ev.title is None and ev.author is None and not is_valid(ev, ref)


def test_a_dryad_package_of_the_papers_data_is_not_the_paper():
    ref = RefString("Swart EC, Bracht J, Magrini V (2013) The Oxytricha trifallax macronuclear "
                    "genome: a complex eukaryotic genome with 16,000 tiny chromosomes. PLoS Biol "
                    "11: e1001473.")  # fmt: skip
    data = cand("10.5061/dryad.d1013", "Data from: The Oxytricha trifallax macronuclear genome: a "
                "complex eukaryotic genome with 16,000 tiny chromosomes", ["Swart", "Bracht"],
                2013, "Dryad Digital Repository", type="dataset")  # fmt: skip
    assert decide(ref, [data]).status == "unmatched"


def test_nothing_found_is_unmatched_with_a_reason():
    d = decide(RefString("Darwin C. On the Origin of Species. London: John Murray; 1859."), [])
    assert d.status == "unmatched" and d.reason == "the search found nothing"


def test_a_japanese_reference_matches_its_japanese_record():
    # a real record and its Chicago rendering (CrossRef/reference-matching-evaluation)
    ref = RefString("朴南權. 2009. “都市集合住宅における日常交流の意識が非常時の相互援助性に与える"
                    "影響に関する研究.” 神戸大学大学院工学研究科紀要.")  # fmt: skip
    record = cand("10.5047/gseku.j.2009.006",
                  "都市集合住宅における日常交流の意識が非常時の相互援助性に与える影響に関する研究",
                  ["朴"], 2009, "神戸大学大学院工学研究科紀要")  # fmt: skip
    other = cand("10.5047/gseku.j.2009.007", "震災後の都市集合住宅における住民組織の研究",
                 ["朴"], 2009, "神戸大学大学院工学研究科紀要")  # fmt: skip
    d = decide(ref, [other, record])
    assert d.status == "matched" and d.winner.doi == "10.5047/gseku.j.2009.006"


# -- references that print no title (ACS, AIP, Elsevier, Vancouver without titles) ----------

MERDRIGNAC = cand("10.1111/j.1399-0039.1981.tb01396.x", "HLA-A, -B, and -DR specificities on "
                  "human monocytes", ["Merdrignac", "Fauchet", "Bouhallier", "Genetet"], 1981,
                  "Tissue Antigens", "18", "299-305")  # fmt: skip


def test_without_a_title_volume_first_page_year_and_first_author_pin_the_work():
    for text in ("1 G. Merdrignac, R. Fauchet, O. Bouhallier, and B. Genetet, Tissue Antigens 18, "
                 "299 (1981).",
                 "Merdrignac G, Fauchet R (1982) Tissue Antig 18: 299-305."):  # fmt: skip
        d = decide(RefString(text), [MERDRIGNAC])
        assert d.status == "matched", text  # the second: a year off by one, an abbreviation


def test_a_work_without_authors_is_pinned_by_journal_volume_first_page_and_year():
    ref = RefString("[1]Journal of Renal Nutrition 18 (2008) S21.")
    abstract = cand("10.1053/j.jrn.2008.03.081", "Insulin resistance regarding protein is "
                    "observed at basal but not at insulin-stimulated suppression of protein "
                    "degradation in patients with chronic kidney diseases", [], 2008,
                    "Journal of Renal Nutrition", "18", "S21")  # fmt: skip
    assert decide(ref, [abstract]).status == "matched"


def test_another_authors_work_on_the_same_page_is_not_the_cited_one():
    ref = RefString("1 G. Merdrignac, R. Fauchet, Tissue Antigens 18, 299 (1981).")
    editorial = cand("10.9999/editorial", "News and views", ["Editor"], 1981,
                     "Tissue Antigens", "18", "299")  # fmt: skip
    assert not is_valid(evidence(ref, editorial), ref)


def test_author_year_volume_and_journal_without_a_page_are_not_enough():
    # the same author's other abstract in that volume; the cited one is not in the catalog
    ref = RefString("1 A.B. REITZ, E.SONVEAUX, R.P. ROSENKRANZ, M.S. VERLANDER, K.L. MEL MON, "
                    "B.B. HOFFMAN, Y.PAKITA, N. CASTAGNOLI, and M. GOODMAN, Chemischer "
                    "Informationsdienst 16, (1985).")  # fmt: skip
    other = cand("10.1002/chin.198534180", "ChemInform Abstract: CONJUGATES OF CATECHOLAMINES. "
                 "6. SYNTHESIS AND β-ADRENERGIC ACTIVITY OF N-(HYDROXYALKYL)CATECHOLAMINE "
                 "DERIVATIVES", ["REITZ", "AVERY", "ROSENKRANZ"], 1985,
                 "Chemischer Informationsdienst", "16", None, issue="34")  # fmt: skip
    assert decide(ref, [other]).status == "unmatched"


def test_the_lists_own_number_is_not_taken_for_a_first_page():
    # chapter 1 of the book starts on page 1; the string cites pages 30-50 as its entry "(1)"
    ref = RefString("(1) Berry, M. The Affluent Society Revisited 2013, 30–50.")
    first = cand("10.1093/acprof:oso/9780199686506.003.0001", "The Affluent Society Revisited",
                 ["Berry"], 2013, "The Affluent Society Revisited", None, "1-6")  # fmt: skip
    assert decide(ref, [first]).status == "unmatched"


def test_a_title_aligning_by_chance_with_a_title_less_string_does_not_rank_candidates():
    ref = RefString("1 G. Merdrignac, R. Fauchet, Tissue Antigens 18, 299 (1981).")
    ev = evidence(ref, MERDRIGNAC)
    assert ev.title < 0.75
    assert ev.similarity == evidence(ref, replace(MERDRIGNAC, title=None)).similarity


def test_journals_are_recognised_as_references_abbreviate_them():
    # real PLOS strings and the full titles Crossref holds for their journals
    pairs = [
        ("Herbst RS, et al.. Lancet. 2011; 377:1846–1854.", "The Lancet"),
        ("Cooke SL, et al. (2011). Br J Cancer 104: 361–368.", "British Journal of Cancer"),
        ("Mantegna RN (1999). Eur Phys J B 11: 193.", "The European Physical Journal B"),
        ("Keeling MJ (2005). Proc Roy Soc B 272:1195–1202.",
         "Proceedings of the Royal Society B: Biological Sciences"),
        ("Colman RJ, et al. (2008). J Gerontol A Biol Sci Med Sci 63: 556-559.",
         "The Journals of Gerontology Series A: Biological Sciences and Medical Sciences"),
    ]  # fmt: skip
    for text, journal in pairs:
        assert evidence(RefString(text), cand("10.1/x", None, [], 2000, journal)).container == 1.0


def test_author_initials_or_a_word_inside_another_are_not_a_journal():
    ref = RefString("Smith J A B (2001) Stem cells in the niche. Science 294: 1012.")
    for journal in ("Journal of Applied Biology", "Cell"):
        assert evidence(ref, cand("10.1/x", None, [], 2001, journal)).container == 0.0


def test_a_family_name_split_by_ocr_is_still_the_first_author():
    ref = RefString("1 S. Hellm an, L.E. Ootnick, and E.C. Hannon, Proceedings of the National "
                    "Academy of SciQnces 75,  490 (1978).")  # fmt: skip
    hellman = cand("10.1073/pnas.75.1.490", "Some title", ["Hellman", "Hartnick", "Hannon"],
                   1978, "Proceedings of the National Academy of Sciences", "75", "490-494")  # fmt: skip
    assert decide(ref, [hellman]).status == "matched"


def test_a_year_lost_to_ocr_noise_leaves_author_journal_volume_and_page_to_decide():
    ref = RefString("1 G. Merdrignac, R. Fauchet, Tissue Antigens 18, 299 (19 8l).")
    assert decide(ref, [MERDRIGNAC]).status == "matched"
    no_author = RefString("1 Tissue Antigens 18, 299 (19 8l).")
    assert decide(no_author, [MERDRIGNAC]).status == "unmatched"
