"""Real metadata of three works a PLOS article cites (PMIDs as PubMed has them), shared by
the matcher's tests and `enrich match`'s."""

RECORDS = [
    {"doi": "10.1016/j.cbpa.2005.02.004", "pmid": "15811793",
     "title": "Metal ions and RNA folding: a highly charged topic with a dynamic future",
     "authors": [["Woodson", "SA"]], "year": 2005, "container": "Curr Opin Chem Biol",
     "volume": "9", "pages": "104-109"},
    {"doi": "10.1146/annurev.biophys.34.040204.144511", "title": "Ions and RNA folding",
     "authors": [["Draper", "DE"]], "year": 2005, "container": "Annu Rev Biophys Biomol Struct",
     "volume": "34", "pages": "221-243"},
    {"doi": "10.1016/s0952-7915(96)80019-7", "pmid": "8994870",
     "title": "Virus-induced autoimmune disease", "authors": [["von Herrath", "MG"]],
     "year": 1996, "container": "Curr Opin Immunol", "volume": "8", "pages": "878-885"},
]  # fmt: skip
