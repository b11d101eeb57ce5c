"""A loopback fake of OpenAlex, Crossref, NCBI E-utilities and the PMC ID converter.

End-to-end tests and benchmarks run the real pipeline against it over real sockets::

    from demo.fakeapi import FakeApi, seed_catalog

    with FakeApi(seed_catalog()) as api:
        os.environ.update(api.env())
        ...

See ``server.FakeApi`` for faults, rate limits and stats.
"""

from demo.fakeapi.catalog import Author, Catalog, CitedBy, FakeUpdate, FakeWork, Institution
from demo.fakeapi.generate import generate_catalog
from demo.fakeapi.seeds import seed_catalog
from demo.fakeapi.server import FakeApi

__all__ = [
    "Author",
    "Catalog",
    "CitedBy",
    "FakeApi",
    "FakeUpdate",
    "FakeWork",
    "Institution",
    "generate_catalog",
    "seed_catalog",
]
