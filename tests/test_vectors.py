"""tasks/vectors.py gives scikit-learn's answers: TF-IDF rows, cosine similarities, near pairs and DBSCAN labels."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse import random as sparse_random

from log_gardener.tasks.identity import nearest_known
from log_gardener.tasks.vectors import SparseRows, cosine, dbscan_one_per_core, near_pairs, tfidf

# scikit-learn is the reference, installed with the dev extra only
DBSCAN = pytest.importorskip("sklearn.cluster").DBSCAN
TfidfVectorizer = pytest.importorskip("sklearn.feature_extraction.text").TfidfVectorizer
cosine_similarity = pytest.importorskip("sklearn.metrics.pairwise").cosine_similarity


def _documents(rng: random.Random) -> list[list[str]]:
    documents = [[rng.choice("abcdefghij") for _ in range(rng.randint(0, 7))] for _ in range(rng.randint(1, 40))]
    documents[0].append("a")  # scikit-learn refuses a corpus without a single feature
    return documents


def _sklearn_rows(documents: list[list[str]], sublinear_tf: bool) -> dict[tuple[int, str], float]:
    vectorizer = TfidfVectorizer(analyzer=lambda d: d, lowercase=False, sublinear_tf=sublinear_tf)
    matrix = vectorizer.fit_transform(documents).tocoo()
    names = vectorizer.get_feature_names_out()
    return {(int(r), str(names[c])): float(v) for r, c, v in zip(matrix.row, matrix.col, matrix.data)}


def _our_rows(documents: list[list[str]], sublinear_tf: bool) -> dict[tuple[int, str], float]:
    columns: dict[str, int] = {}
    for document in documents:
        for feature in document:
            columns.setdefault(feature, len(columns))
    names = list(columns)
    matrix = tfidf(documents, sublinear_tf=sublinear_tf).csr().tocoo()
    return {(int(r), names[c]): float(v) for r, c, v in zip(matrix.row, matrix.col, matrix.data)}


@pytest.mark.parametrize("sublinear_tf", [False, True])
def test_tfidf_rows_are_scikit_learns(sublinear_tf):
    rng = random.Random(7)
    for _ in range(100):
        documents = _documents(rng)
        ours, theirs = _our_rows(documents, sublinear_tf), _sklearn_rows(documents, sublinear_tf)
        assert ours.keys() == theirs.keys()
        assert np.allclose([ours[k] for k in theirs], list(theirs.values()), rtol=1e-12, atol=1e-15)


def test_tfidf_repeated_feature_counts_once_more_in_sublinear_mode():
    # the known answer: "a" twice in one document of two -> tf 1 + ln 2, idf ln(3/3) + 1 = 1; "b" in one: idf ln(3/2) + 1
    row = tfidf([["a", "a", "b"], ["a"]], sublinear_tf=True).toarray()[0]
    expected = np.array([1 + np.log(2), np.log(1.5) + 1])
    assert np.allclose(row, expected / np.linalg.norm(expected))


def test_cosine_is_scikit_learns_and_a_row_without_features_is_zero():
    rng = random.Random(3)
    for _ in range(50):
        documents = _documents(rng) + [[]]
        vectors = tfidf(documents)
        assert np.allclose(cosine(vectors, vectors), cosine_similarity(vectors.csr()), atol=1e-12)
        assert not cosine(vectors, vectors)[-1].any()


def test_cosine_normalises_rows_of_any_length_as_scikit_learn_does():
    for seed in range(20):
        a = sparse_random(12, 9, density=0.4, format="csr", random_state=seed) * 7
        b = sparse_random(5, 9, density=0.4, format="csr", random_state=seed + 100)
        assert np.allclose(cosine(a, b), cosine_similarity(a, b), atol=1e-12)


def test_similarities_of_tfidf_rows_are_exactly_symmetric():
    # the neighbour graph is read as undirected: a pair near one way must be near the other way too
    rng = random.Random(11)
    documents = [[rng.choice("abcdefghijklmnop") for _ in range(rng.randint(1, 12))] for _ in range(300)]
    vectors = tfidf(documents, sublinear_tf=True).csr()
    similarity = (vectors @ vectors.T).toarray()
    assert (similarity == similarity.T).all()


def _similar_pairs(vectors, members, threshold):
    rows = vectors.toarray()[members]
    similarity = rows @ rows.T
    return {(i, j) for i in range(len(members)) for j in range(i + 1, len(members)) if similarity[i, j] >= threshold}


# compared sparsely, densely, pair by pair, and through the candidates that share a column of a row's prefix
@pytest.mark.parametrize(
    ("dense_cells", "small_block", "candidate_rows"), [(0, 0, 10**9), (10**9, 0, 10**9), (0, 10**9, 10**9), (10**9, 0, 0)]
)
def test_near_pairs_are_the_pairs_within_the_threshold(dense_cells, small_block, candidate_rows):
    rng = random.Random(13)
    for _ in range(30):
        documents = [[rng.choice("abcdefgh") for _ in range(rng.randint(0, 6))] for _ in range(rng.randint(2, 50))]
        vectors = tfidf(documents, sublinear_tf=True)
        members = np.array(sorted(rng.sample(range(len(documents)), rng.randint(1, len(documents)))))
        for threshold in (0.3, 0.7, 0.95):
            # a threshold that falls on a similarity exactly is left out: summed in another order it may round either way
            expected = _similar_pairs(vectors, members, threshold)
            borderline = _similar_pairs(vectors, members, threshold - 1e-9) - _similar_pairs(vectors, members, threshold + 1e-9)
            found = set(zip(*(a.tolist() for a in near_pairs(vectors, members, threshold, dense_cells, small_block, 10.0, candidate_rows))))
            assert found - borderline == expected - borderline
            assert all(i < j for i, j in found)


def test_candidates_through_prefixes_find_every_pair_of_a_wide_block():
    # a few common words and many rare ones, as in a block of shapes: most pairs share no rare word and are never
    # compared, yet every pair within the threshold is found, those that are near through common words alone too
    rng = random.Random(29)
    words = [f"w{i}" for i in range(400)]
    for _ in range(8):
        documents = [rng.choices(words, weights=[1 / (i + 1) for i in range(len(words))], k=rng.randint(1, 9)) for _ in range(300)]
        documents += [documents[i] + [rng.choice(words)] for i in rng.sample(range(300), 30)]  # near twins
        vectors = tfidf(documents, sublinear_tf=True)
        members = np.arange(len(documents))
        for threshold in (0.5, 0.8, 0.95):
            expected = _similar_pairs(vectors, members, threshold)
            borderline = _similar_pairs(vectors, members, threshold - 1e-9) - _similar_pairs(vectors, members, threshold + 1e-9)
            found = set(zip(*(a.tolist() for a in near_pairs(vectors, members, threshold, candidate_share=10.0, candidate_rows=0))))
            assert expected
            assert found - borderline == expected - borderline


def test_a_pair_reached_only_through_the_last_entry_of_a_prefix_is_found():
    # x and y hold A and B alike, whose weights square to just over the threshold, and a word of their own each
    # (not shared: left out). Their prefix is A alone (B alone squares to less), so a prefix shorter by a hair
    # misses the pair; z holds B and pairs with neither
    threshold = 0.8
    b = 0.1**0.5
    a = (threshold + 1e-7 - b * b) ** 0.5
    own = (1 - a * a - b * b) ** 0.5
    vectors = SparseRows(
        indptr=np.array([0, 3, 6, 7]),
        indices=np.array([0, 1, 2, 0, 1, 3, 1]),
        data=np.array([a, b, own, a, b, own, 1.0]),
        n_columns=4,
    )
    found = near_pairs(vectors, np.arange(3), threshold, small_block=0, candidate_share=10.0, candidate_rows=0)
    assert list(zip(*(side.tolist() for side in found))) == [(0, 1)]


def test_at_a_threshold_of_zero_every_pair_is_near_even_one_sharing_nothing():
    vectors = tfidf([["a"], ["b"], ["c"]])
    found = near_pairs(vectors, np.arange(3), 0.0, small_block=0, candidate_share=10.0, candidate_rows=0)
    assert list(zip(*(side.tolist() for side in found))) == [(0, 1), (0, 2), (1, 2)]


def test_a_column_one_member_holds_alone_changes_no_pair():
    # "x" and "y" belong to one row each: the rows still compare on "a" as their full vectors do
    vectors = tfidf([["a", "x"], ["a", "y"], ["b"]])
    first, second = near_pairs(vectors, np.array([0, 1, 2]), 0.2)
    assert list(zip(first.tolist(), second.tolist())) == [(0, 1)]
    assert cosine(vectors[0:1], vectors[1:2])[0, 0] >= 0.2


def test_no_features_anywhere_gives_zero_rows_and_no_known_pattern():
    assert tfidf([[], []]).shape == (2, 0)
    assert tfidf([]).shape == (0, 0)
    assert not cosine(tfidf([[], []]), tfidf([[], []])).any()
    # a template of values only is like no known template
    assert nearest_known(["<*>"], {"fp1": "<*> <*>"}, 0.75) == [None]


def test_cosine_leaves_its_arguments_unchanged():
    matrix = csr_matrix(np.array([[3.0, 4.0], [0.0, 2.0]]))
    cosine(matrix, matrix)
    assert matrix.toarray().tolist() == [[3.0, 4.0], [0.0, 2.0]]


def test_dbscan_one_per_core_labels_are_dbscans():
    rng = np.random.default_rng(5)
    for case in range(200):
        n = int(rng.integers(1, 60 if case % 2 else 9))  # every other case a few points, which Python joins
        eps = float(rng.choice([0.05, 0.2, 0.5]))
        distance = rng.random((n, n))
        distance = (distance + distance.T) / 2
        rows, cols = np.nonzero(distance <= eps)
        graph = csr_matrix((np.maximum(distance[rows, cols], 1e-12), (rows, cols)), shape=(n, n))
        graph = graph + csr_matrix((np.full(n, 1e-12), (np.arange(n), np.arange(n))), shape=(n, n))
        expected = DBSCAN(eps=eps, min_samples=1, metric="precomputed").fit_predict(graph)
        upper = rows < cols  # each pair once, as near_pairs gives them
        assert dbscan_one_per_core(n, rows[upper], cols[upper]).tolist() == expected.tolist()


def test_dbscan_one_per_core_joins_a_chain_and_numbers_by_first_point():
    # 3-1, 1-4 chain into one cluster; 0 and 2 stay alone; labels in order of each cluster's first point
    pairs = [(3, 1), (1, 4), (4, 0)]
    assert dbscan_one_per_core(6, [a for a, _ in pairs], [b for _, b in pairs]).tolist() == [0, 0, 1, 0, 0, 2]
    # a long chain given from its far end: every link is followed
    assert dbscan_one_per_core(50, list(range(49, 0, -1)), list(range(48, -1, -1))).tolist() == [0] * 50
    assert dbscan_one_per_core(3, [], []).tolist() == [0, 1, 2]
