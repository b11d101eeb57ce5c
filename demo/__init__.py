"""The offline demo: a loopback fake of OpenAlex, Crossref, E-utilities and the PMC ID converter
(``demo.fakeapi``), serving real-shaped records, so ``enrich`` can be seen doing its whole job
without the internet. Tests and benchmarks run against the same fake."""
