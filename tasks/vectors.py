"""TF-IDF vectors, cosine similarity and DBSCAN's clusters at one point per core, on scipy's sparse matrices.

The clusterer, the identity of new patterns and the matching of filed issues
share these three small functions. They compute what scikit-learn's
`TfidfVectorizer` (smooth idf, l2 rows), `cosine_similarity` and
`DBSCAN(min_samples=1, metric="precomputed")` compute (the tests hold them to
scikit-learn's answers), without importing scikit-learn, whose import alone
costs about a second: most of `gardener cluster` on an hour of lines.

DBSCAN with `min_samples=1` makes every point a core point, so a cluster is a
connected component of the graph of pairs within `eps` of each other (single
linkage cut at `eps`); the caller builds that graph from the pairs it keeps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components


def tfidf(documents: Sequence[Iterable[str]], sublinear_tf: bool = False) -> csr_matrix:
    """One l2-normalised row per document of features; idf = ln((1 + n) / (1 + df)) + 1.

    With `sublinear_tf` a feature seen k times in a document counts 1 + ln(k).
    A document without features is a row of zeros.
    """
    column: dict[str, int] = {}
    indptr = [0]
    indices: list[int] = []
    for document in documents:
        indices.extend([column.setdefault(feature, len(column)) for feature in document])
        indptr.append(len(indices))
    n = len(indptr) - 1
    matrix = csr_matrix(
        (np.ones(len(indices)), np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
        shape=(n, len(column)),
    )
    # a feature seen k times in a document becomes one entry of k, and each row's columns are sorted, so the
    # similarity of a with b sums the same products in the same order as that of b with a: exactly symmetric
    matrix.sum_duplicates()
    if sublinear_tf:
        np.log(matrix.data, out=matrix.data)
        matrix.data += 1.0
    document_frequency = np.bincount(matrix.indices, minlength=len(column))
    matrix.data *= (np.log((1.0 + n) / (1.0 + document_frequency)) + 1.0)[matrix.indices]
    return _unit_rows(matrix)


def cosine(a: csr_matrix, b: csr_matrix) -> np.ndarray:
    """Dense cosine similarities of the rows of `a` with the rows of `b` (rows of zeros give 0)."""
    return np.asarray((_unit_rows(a) @ _unit_rows(b).T).todense())


def _unit_rows(matrix: csr_matrix) -> csr_matrix:
    matrix = csr_matrix(matrix, dtype=np.float64, copy=True)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    matrix.data /= np.repeat(np.where(norms > 0, norms, 1.0), np.diff(matrix.indptr))
    return matrix


def dbscan_one_per_core(near: csr_matrix) -> np.ndarray:
    """DBSCAN's labels with `min_samples=1` on a symmetric graph whose stored entries are the pairs within `eps`.

    Every point is a core point, so the clusters are the graph's connected
    components. scipy numbers them in order of each one's first point, as
    DBSCAN numbers its clusters.
    """
    return connected_components(near, directed=False)[1].astype(np.int64)
