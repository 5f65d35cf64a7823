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

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

DENSE_CELLS = 4_000_000  # a block is compared densely while rows x shared columns stays under this (32 MB)
# a block of at most this many rows is compared pair by pair in Python: numpy's fixed cost per call (about 25 µs
# for two rows, five times the Python comparison) is more than its few pairs take, and a large input holds
# thousands of such blocks
SMALL_BLOCK = 8
# a block's candidate pairs (see `_candidate_pairs`) are compared alone while the visits that find them (each prefix
# entry to each row holding its column, repeats and a row's own included) are at most this share of the block's
# ordered pairs: past it one matrix product of the whole block is cheaper
CANDIDATE_SHARE = 0.25
# a block of at most this many rows is compared whole: finding its candidates costs more than its matrix product
CANDIDATE_ROWS = 128


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


def tfidf(documents: Sequence[Iterable[Hashable]], sublinear_tf: bool = False) -> SparseRows:
    """One l2-normalised row per document of features (words, or any values a dict can hold); idf = ln((1 + n) / (1 + df)) + 1.

    With `sublinear_tf` a feature seen k times in a document counts 1 + ln(k).
    A document without features is a row of zeros.
    """
    column: dict[Hashable, int] = {}
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
    vectors: SparseRows,
    members: np.ndarray,
    min_similarity: float,
    dense_cells: int = DENSE_CELLS,
    small_block: int = SMALL_BLOCK,
    candidate_share: float = CANDIDATE_SHARE,
    candidate_rows: int = CANDIDATE_ROWS,
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (i < j, positions in `members`) of unit rows whose dot product is at least `min_similarity`.

    A block of at most `small_block` members is compared pair by pair. In a
    larger one a column held by one member alone adds nothing to any pair, so
    the comparison keeps the columns two members share. Of those, each row's
    rarest columns that carry enough of its weight are its *prefix* (see
    `_candidate_pairs`): two rows that share no column of either prefix cannot
    reach the threshold, so in a block of more than `candidate_rows` members
    only the pairs that do are compared, while finding them visits at most
    `candidate_share` of the block's pairs and summing them takes no more
    lookups than its dense matrix has cells. Otherwise the block is compared
    whole, as a small dense matrix, or sparsely (scipy) when it has too many
    shared columns.
    """
    members = np.asarray(members, dtype=np.int64)
    if len(members) <= small_block:
        return _near_pairs_one_by_one(vectors, members.tolist(), min_similarity)
    n = len(members)
    starts, ends = vectors.indptr[members], vectors.indptr[members + 1]
    lengths = ends - starts
    local_rows = np.repeat(np.arange(n), lengths)
    positions = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths) + np.repeat(starts, lengths)
    columns, local_columns, held = np.unique(vectors.indices[positions], return_inverse=True, return_counts=True)
    shared = held[local_columns] > 1
    width = int(np.count_nonzero(held > 1))  # the columns two members share
    # the entries on those columns, which both the candidates and the dense matrix read
    shared_rows, shared_columns, shared_data = local_rows[shared], local_columns[shared], vectors.data[positions][shared]
    if min_similarity > 0 and n > candidate_rows:
        found = _candidate_pairs(
            shared_rows, shared_columns, shared_data, held, n, min_similarity, candidate_share, min(n * width, dense_cells)
        )
        if found is not None:
            return found
    if n * width <= dense_cells:
        dense = np.zeros((n, width))
        dense[shared_rows, (np.cumsum(held > 1) - 1)[shared_columns]] = shared_data
        similarity = dense @ dense.T
    else:
        from scipy.sparse import csr_matrix

        sub = csr_matrix((vectors.data[positions], (local_rows, local_columns)), shape=(n, len(columns)))
        similarity = (sub @ sub.T).toarray()
    first, second = np.nonzero(similarity >= min_similarity)
    above = first < second  # each pair once, in the order of the upper triangle
    return first[above], second[above]


def _candidate_pairs(
    rows: np.ndarray,
    columns: np.ndarray,
    weights: np.ndarray,
    held: np.ndarray,
    n: int,
    min_similarity: float,
    share: float,
    max_lookups: int,
) -> tuple[np.ndarray, np.ndarray] | None:
    """`near_pairs` of `n` unit rows given as entries (row, column, weight) in row then column order, comparing
    only the pairs that may reach it.

    Each row's entries are ordered rarest column first (`held`: how many rows hold a column). A row's prefix runs
    up to its last entry from which the weights to the end still square to `min_similarity`, so the rest of the
    row has a norm under its square root. Two rows that share no column of either one's prefix compare on the
    rests of both alone, whose product falls short of the threshold (Cauchy-Schwarz). The candidates are the
    pairs that share a column of one's prefix; each is summed over the columns both hold. None when there are
    more visits to find the candidates than `share` of the ordered pairs (see CANDIDATE_SHARE), or more lookups
    to sum them than `max_lookups` (the cells of the block's dense matrix): comparing the block whole is then
    cheaper. Each row's columns are sorted and unique, as in `SparseRows`.
    """
    width = len(held)
    row_starts = np.searchsorted(rows, np.arange(n + 1))
    rarest_first = np.argsort((rows * (n + 1) + held[columns]) * width + columns)
    squares = weights[rarest_first] ** 2
    totals = np.cumsum(np.concatenate(([0.0], squares)))
    # the squares from each entry to its row's end (against a hair under the threshold, so rounding keeps an entry in)
    to_end = totals[row_starts[rows + 1]] - totals[:-1]
    prefix = rarest_first[to_end >= min_similarity * (1.0 - 1e-9)]
    # each prefix entry paired with every holder of its column
    by_column = np.argsort(columns, kind="stable")
    holders = rows[by_column]
    column_starts = np.searchsorted(columns[by_column], np.arange(width + 1))
    prefix_rows, prefix_columns = rows[prefix], columns[prefix]
    counts = column_starts[prefix_columns + 1] - column_starts[prefix_columns]
    total = int(counts.sum())
    if total > share * n * (n - 1):
        return None
    first = np.repeat(prefix_rows, counts)
    second = holders[np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(column_starts[prefix_columns], counts)]
    apart = first != second
    keys = np.unique(np.minimum(first[apart], second[apart]) * n + np.maximum(first[apart], second[apart]))
    first, second = keys // n, keys % n
    # each candidate's dot product: the first row's entries, each looked up among the second row's (the entries
    # are in order of row, then column: their keys are sorted)
    spans = row_starts[first + 1] - row_starts[first]
    lookups = int(spans.sum())
    if lookups > max_lookups:
        return None
    entry_keys = rows * width + columns
    pair_of = np.repeat(np.arange(len(first)), spans)
    entries = np.arange(lookups) - np.repeat(np.cumsum(spans) - spans, spans) + np.repeat(row_starts[first], spans)
    wanted = second[pair_of] * width + columns[entries]
    at = np.minimum(np.searchsorted(entry_keys, wanted), len(entry_keys) - 1)
    products = np.where(entry_keys[at] == wanted, weights[entries] * weights[at], 0.0)
    similarity = np.bincount(pair_of, weights=products, minlength=len(first))
    near = similarity >= min_similarity
    return first[near], second[near]


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
    if n <= SMALL_BLOCK:
        return _components_one_by_one(n, first, second)
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


def _components_one_by_one(n: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """`dbscan_one_per_core` of a few points in Python: numpy's fixed cost per call is more than their few pairs."""
    root = list(range(n))

    def find(x: int) -> int:
        while root[x] != x:
            x = root[x]
        return x

    for a, b in zip(np.asarray(first).tolist(), np.asarray(second).tolist()):
        a, b = find(a), find(b)
        if a != b:
            root[max(a, b)] = min(a, b)
    # every root is its component's smallest point: numbering roots as they first come numbers by first point
    number: dict[int, int] = {}
    return np.array([number.setdefault(find(x), len(number)) for x in range(n)], dtype=np.int64)
