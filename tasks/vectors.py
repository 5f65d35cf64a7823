"""TF-IDF vectors, cosine similarity and DBSCAN's clusters at one point per core, in numpy.

The clusterer, the identity of new patterns and the matching of filed issues
share these small functions. They compute what scikit-learn's
`TfidfVectorizer` (smooth idf, l2 rows), `cosine_similarity` and
`DBSCAN(min_samples=1, metric="precomputed")` compute (the tests hold them to
scikit-learn's answers) without importing scikit-learn, whose import alone
costs about a second, and without scipy for the clusterer's usual blocks:
importing `scipy.sparse` costs about 0.15 s, a large share of `gardener
cluster` on an hour of lines. scipy is imported only for a block too wide to
compare densely, and for `cosine`.

DBSCAN with `min_samples=1` makes every point a core point, so a cluster is a
connected component of the graph of pairs within `eps` of each other (single
linkage cut at `eps`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

DENSE_CELLS = 4_000_000  # a block is compared densely while rows x shared columns stays under this (32 MB)
# a block of at most this many rows is compared pair by pair in Python: numpy's fixed cost per call (about 25 µs
# for two rows, five times the Python comparison) is more than its few pairs take, and a large input holds
# thousands of such blocks
SMALL_BLOCK = 8


@dataclass(frozen=True)
class SparseRows:
    """Rows of a sparse matrix in CSR form: each row's columns sorted, none twice."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    n_columns: int

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.indptr) - 1, self.n_columns

    def __getitem__(self, rows: slice) -> SparseRows:
        start, stop, _ = rows.indices(self.shape[0])
        stop = max(start, stop)
        begin, end = self.indptr[start], self.indptr[stop]
        return SparseRows(self.indptr[start : stop + 1] - begin, self.indices[begin:end], self.data[begin:end], self.n_columns)

    def csr(self):
        """The same rows as a scipy `csr_matrix`."""
        from scipy.sparse import csr_matrix

        return csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)

    def toarray(self) -> np.ndarray:
        dense = np.zeros(self.shape)
        dense[np.repeat(np.arange(self.shape[0]), np.diff(self.indptr)), self.indices] = self.data
        return dense


def tfidf(documents: Sequence[Iterable[str]], sublinear_tf: bool = False) -> SparseRows:
    """One l2-normalised row per document of features; idf = ln((1 + n) / (1 + df)) + 1.

    With `sublinear_tf` a feature seen k times in a document counts 1 + ln(k).
    A document without features is a row of zeros.
    """
    column: dict[str, int] = {}
    lengths: list[int] = []
    features: list[int] = []
    for document in documents:
        before = len(features)
        features.extend([column.setdefault(feature, len(column)) for feature in document])
        lengths.append(len(features) - before)
    n, width = len(lengths), max(len(column), 1)
    rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
    # one key per (row, column): a stable sort of keys already in row order is fast, and a feature seen k
    # times in a document becomes one entry of k
    keys = np.sort(rows * width + np.asarray(features, dtype=np.int64), kind="stable")
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    starts = np.flatnonzero(first)
    tf = np.diff(np.append(starts, len(keys))).astype(np.float64)
    keys = keys[starts]
    entry_rows, indices = keys // width, keys % width
    if sublinear_tf:
        tf = 1.0 + np.log(tf)
    document_frequency = np.bincount(indices, minlength=len(column))
    data = tf * (np.log((1.0 + n) / (1.0 + document_frequency)) + 1.0)[indices]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(entry_rows, minlength=n), out=indptr[1:])
    norms = np.sqrt(np.bincount(entry_rows, weights=data * data, minlength=n))
    data /= np.where(norms > 0, norms, 1.0)[entry_rows]
    return SparseRows(indptr, indices, data, len(column))


def cosine(a, b) -> np.ndarray:
    """Dense cosine similarities of the rows of `a` with the rows of `b` (rows of zeros give 0).

    `a` and `b` are `SparseRows` or scipy sparse matrices.
    """
    return np.asarray((_unit_rows(a) @ _unit_rows(b).T).todense())


def _unit_rows(matrix):
    from scipy.sparse import csr_matrix

    matrix = csr_matrix(matrix.csr() if isinstance(matrix, SparseRows) else matrix, dtype=np.float64, copy=True)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    matrix.data /= np.repeat(np.where(norms > 0, norms, 1.0), np.diff(matrix.indptr))
    return matrix


def near_pairs(
    vectors: SparseRows, members: np.ndarray, min_similarity: float, dense_cells: int = DENSE_CELLS, small_block: int = SMALL_BLOCK
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (i < j, positions in `members`) of unit rows whose dot product is at least `min_similarity`.

    A block of at most `small_block` members is compared pair by pair. In a
    larger one a column held by one member alone adds nothing to any pair, so
    the comparison keeps the columns two members share: usually few, and the
    block is compared as a small dense matrix. A block with too many shared
    columns is compared sparsely (scipy).
    """
    members = np.asarray(members, dtype=np.int64)
    if len(members) <= small_block:
        return _near_pairs_one_by_one(vectors, members.tolist(), min_similarity)
    starts, ends = vectors.indptr[members], vectors.indptr[members + 1]
    lengths = ends - starts
    local_rows = np.repeat(np.arange(len(members)), lengths)
    positions = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths) + np.repeat(starts, lengths)
    columns, local_columns, held = np.unique(vectors.indices[positions], return_inverse=True, return_counts=True)
    shared = held[local_columns] > 1
    renumber = np.cumsum(held > 1) - 1
    width = int(np.count_nonzero(held > 1))  # the columns two members share
    if len(members) * width <= dense_cells:
        dense = np.zeros((len(members), width))
        dense[local_rows[shared], renumber[local_columns[shared]]] = vectors.data[positions][shared]
        similarity = dense @ dense.T
    else:
        from scipy.sparse import csr_matrix

        sub = csr_matrix((vectors.data[positions], (local_rows, local_columns)), shape=(len(members), len(columns)))
        similarity = (sub @ sub.T).toarray()
    first, second = np.nonzero(similarity >= min_similarity)
    above = first < second  # each pair once, in the order of the upper triangle
    return first[above], second[above]


def _near_pairs_one_by_one(vectors: SparseRows, members: list[int], min_similarity: float) -> tuple[np.ndarray, np.ndarray]:
    """`near_pairs` of a few members, each pair's dot product summed over the columns the two share."""
    indptr = vectors.indptr
    rows = [
        dict(zip(vectors.indices[indptr[m] : indptr[m + 1]].tolist(), vectors.data[indptr[m] : indptr[m + 1]].tolist())) for m in members
    ]
    first, second = [], []
    for i, a in enumerate(rows):
        for j in range(i + 1, len(rows)):
            b = rows[j]
            if sum(value * b[column] for column, value in a.items() if column in b) >= min_similarity:
                first.append(i)
                second.append(j)
    return np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)


def dbscan_one_per_core(n: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """DBSCAN's labels with `min_samples=1` for `n` points, given the pairs within `eps` (`first[k]`, `second[k]`).

    Every point is a core point, so the clusters are the connected components
    of the pairs, numbered in order of each one's first point as DBSCAN
    numbers its clusters.
    """
    root = np.arange(n)
    first, second = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
    while True:
        a, b = root[first], root[second]
        apart = a != b
        if not apart.any():
            break
        low = np.minimum(a[apart], b[apart])
        np.minimum.at(root, a[apart], low)
        np.minimum.at(root, b[apart], low)
        # every point's root is a smaller point of its component; follow the roots to the end
        while True:
            further = root[root]
            if (further == root).all():
                break
            root = further
    # a component's root is its smallest point, so ordering roots orders components by their first point
    return np.unique(root, return_inverse=True)[1].astype(np.int64)
