"""stub"""


def read_pubmed_xml(chars):
    raise NotImplementedError
