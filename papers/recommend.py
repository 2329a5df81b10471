"""
Suggestions from stored similarities (PaperNeighbor): "more like this", "for you" and "for the lab".
Read-only and cheap enough for a page: nothing here imports scikit-learn (see papers/similarity.py,
used only by `manage.py build_similar`).
"""
