"""stub"""


def read_jats(chars):
    raise NotImplementedError
