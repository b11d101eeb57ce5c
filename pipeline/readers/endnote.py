"""stub"""


def read_endnote(chars):
    raise NotImplementedError
