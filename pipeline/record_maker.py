"""Make frozen slots dataclass records at the cost of a plain class, for the extractor's hot loops.

A frozen dataclass's ``__init__`` stores each field through ``object.__setattr__`` (it must go
around its own ``__setattr__``, which refuses): the generic attribute path, by far the largest
part of building a ``Mention`` (2.0 against 0.33 microseconds a record, measured; about 11% of
the extractor's instructions on the bench's pages went there). ``maker(cls)`` returns a twin
class with the same slots whose ``__init__`` stores the fields with plain attribute stores and
then turns the new object into a ``cls`` by ``__class__`` assignment, which Python allows
between classes of the same slot layout. What comes out is an ordinary instance of ``cls``:
its type, equality, hash, immutability, repr and pickling are the record's own.

No library does this (``attrs`` and ``msgspec`` are record types of their own, not a faster way
to build an existing dataclass); the records stay the dataclasses of ``pipeline.records``.
"""

from __future__ import annotations

from dataclasses import fields

__all__ = ["maker"]


def maker(cls: type) -> type:
    """A callable taking every field of the frozen slots dataclass ``cls`` positionally, in
    field order (no defaults), and returning an instance of ``cls``."""
    names = tuple(f.name for f in fields(cls))
    if tuple(getattr(cls, "__slots__", ())) != names:
        raise TypeError(f"{cls.__name__}: a dataclass with slots=True is needed")
    if hasattr(cls, "__post_init__"):  # the twin would skip its checks
        raise TypeError(f"{cls.__name__}: has __post_init__, build it with its own __init__")
    stores = "".join(f"    self.{n} = {n}\n" for n in names)
    source = f"def __init__(self, {', '.join(names)}):\n{stores}    self.__class__ = cls\n"
    namespace = {"cls": cls}
    exec(source, namespace)  # as dataclasses builds __init__: one function, fields inlined
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__name__}Maker.__init__"
    return type(f"{cls.__name__}Maker", (), {"__slots__": names, "__init__": init})
