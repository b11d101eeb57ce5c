"""stub"""


def read_medline(chars):
    raise NotImplementedError
