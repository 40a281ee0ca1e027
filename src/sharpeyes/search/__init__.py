"""Search over the tracks kept from analysis: the query language, and (at scale) the vector index."""
