"""The operators' AI assist, computed on the municipality's own server.

Text embeddings of tickets (:mod:`.embedder`, :mod:`.vectors`, :mod:`.tasks`),
lexical search (:mod:`.lexical`) and their fusion into similar tickets
(:mod:`.similar`); duplicates, clusters, summaries and suggestions build on
them. Every feature works without the optional model, on words alone, and the
administrator switches each one off in the "AI assist" settings
(:mod:`.switches`).
"""
