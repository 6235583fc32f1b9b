import numpy as np
import pytest
from scipy.special import expit
from sklearn.datasets import load_digits

from metasklearn import datasets
from metasklearn.datasets import (
    load_digits_episodes,
    make_checkerboard_tasks,
    make_linear_tasks,
    make_logistic_tasks,
    make_sinusoid_tasks,
)

# ---------------------------------------------------------------- sinusoid


def test_sinusoid_shapes_ranges_and_exact_targets():
    X, y, groups, p = make_sinusoid_tasks(
        n_tasks=50, n_samples=7, amplitude_range=(1.0, 2.0), phase_range=(0.5, 1.0),
        x_range=(-1.0, 3.0), return_params=True, random_state=0,
    )
    assert X.shape == (350, 1) and y.shape == (350,)
    np.testing.assert_array_equal(groups, np.repeat(np.arange(50), 7))
    assert p.amplitude.shape == (50,) and p.phase.shape == (50,)
    assert np.all((1.0 <= p.amplitude) & (p.amplitude <= 2.0))
    assert np.all((0.5 <= p.phase) & (p.phase <= 1.0))
    assert np.all((-1.0 <= X) & (X <= 3.0))
    np.testing.assert_array_equal(y, p.amplitude[groups] * np.sin(X[:, 0] - p.phase[groups]))


def test_sinusoid_defaults_are_maml_ranges():
    X, _, _, p = make_sinusoid_tasks(n_tasks=2000, return_params=True, random_state=0)
    assert 0.1 <= p.amplitude.min() and p.amplitude.max() <= 5.0
    assert p.amplitude.max() > 4.9 and p.amplitude.min() < 0.2
    assert 0.0 <= p.phase.min() and p.phase.max() <= np.pi
    assert X.min() >= -5.0 and X.max() <= 5.0


def test_sinusoid_noise_only_changes_y():
    X0, y0, _, p0 = make_sinusoid_tasks(n_tasks=200, return_params=True, random_state=1)
    X1, y1, _, p1 = make_sinusoid_tasks(n_tasks=200, noise=0.3, return_params=True,
                                        random_state=1)
    np.testing.assert_array_equal(X0, X1)
    np.testing.assert_array_equal(p0.amplitude, p1.amplitude)
    assert np.std(y1 - y0) == pytest.approx(0.3, rel=0.05)


def test_sinusoid_seeded_and_return_arity():
    a = make_sinusoid_tasks(n_tasks=3, random_state=5)
    b = make_sinusoid_tasks(n_tasks=3, random_state=5)
    c = make_sinusoid_tasks(n_tasks=3, random_state=6)
    assert len(a) == 3
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_tasks": 0}, "'n_tasks' parameter"),
        ({"n_samples": 2.5}, "'n_samples' parameter"),
        ({"noise": -1.0}, "'noise' parameter"),
        ({"amplitude_range": (5.0, 1.0)}, r"amplitude_range must be a pair \(low, high\)"),
        ({"x_range": (0.0, 1.0, 2.0)}, "x_range must be a pair"),
        ({"phase_range": (0.0, np.inf)}, "phase_range must be a pair"),
        # not numbers: the same message, not numpy's "could not convert string to float"
        ({"amplitude_range": (1.0, "x")},
         r"amplitude_range must be a pair .* low <= high; got \(1.0, 'x'\)\."),
    ],
)
def test_sinusoid_errors(params, match):
    with pytest.raises(ValueError, match=match):
        make_sinusoid_tasks(**params)


# ---------------------------------------------------------------- linear / logistic


def test_linear_targets_match_params_without_noise():
    X, y, groups, p = make_linear_tasks(
        n_tasks=6, n_samples=[1, 2, 3, 4, 5, 6], n_features=3, noise=0.0,
        return_params=True, random_state=0,
    )
    assert X.shape == (21, 3)
    np.testing.assert_array_equal(np.bincount(groups), [1, 2, 3, 4, 5, 6])
    assert p.intercepts.shape == (6,) and p.coefs.shape == (6, 3)
    for t in range(6):
        rows = groups == t
        np.testing.assert_allclose(y[rows], p.intercepts[t] + X[rows] @ p.coefs[t], rtol=1e-12)


def test_linear_params_follow_the_prior():
    mean = np.array([1.0, -2.0, 0.5])
    cov = np.array([[1.0, 0.5, 0.0], [0.5, 2.0, -0.3], [0.0, -0.3, 0.5]])
    _, _, _, p = make_linear_tasks(n_tasks=4000, n_samples=1, n_features=2, prior_mean=mean,
                                   prior_cov=cov, return_params=True, random_state=0)
    theta = np.column_stack([p.intercepts, p.coefs])
    np.testing.assert_allclose(theta.mean(axis=0), mean, atol=0.1)
    np.testing.assert_allclose(np.cov(theta, rowvar=False), cov, atol=0.1)
    np.testing.assert_array_equal(p.prior_mean, mean)
    np.testing.assert_array_equal(p.prior_cov, cov)


def test_linear_default_prior_fixed_across_seeds_and_noise_level():
    _, _, _, a = make_linear_tasks(n_features=4, return_params=True, random_state=0)
    _, _, _, b = make_linear_tasks(n_features=4, return_params=True, random_state=1)
    np.testing.assert_array_equal(a.prior_mean, np.random.RandomState(0).standard_normal(5))
    np.testing.assert_array_equal(a.prior_mean, b.prior_mean)
    np.testing.assert_array_equal(a.prior_cov, 0.25 * np.eye(5))
    assert not np.array_equal(a.coefs, b.coefs)
    X, y, groups, p = make_linear_tasks(n_tasks=20, n_samples=200, noise=0.5,
                                        return_params=True, random_state=2)
    resid = y - p.intercepts[groups] - np.einsum("ij,ij->i", X, p.coefs[groups])
    assert np.std(resid) == pytest.approx(0.5, rel=0.05)


def test_prior_cov_shorthands():
    kw = dict(n_tasks=2, n_features=2, return_params=True, random_state=0)
    np.testing.assert_array_equal(make_linear_tasks(prior_cov=2.0, **kw)[3].prior_cov,
                                  2.0 * np.eye(3))
    np.testing.assert_array_equal(make_linear_tasks(prior_cov=[1, 2, 3], **kw)[3].prior_cov,
                                  np.diag([1.0, 2.0, 3.0]))
    # zero covariance: every task gets the prior mean exactly
    _, _, _, p = make_linear_tasks(prior_cov=0.0, prior_mean=[1, 2, 3], **kw)
    np.testing.assert_allclose(p.coefs, [[2, 3], [2, 3]])


@pytest.mark.parametrize("make", [make_linear_tasks, make_logistic_tasks])
@pytest.mark.parametrize(
    "params, match",
    [
        ({"prior_mean": [0.0, 1.0]}, r"prior_mean must have n_features \+ 1 = 6"),
        ({"prior_cov": np.ones((2, 2))}, "prior_cov must be a variance"),
        ({"prior_cov": np.array([[1.0, 2.0], [2.0, 1.0]]), "n_features": 1},
         "positive semi-definite"),
        ({"n_samples": [5, 5]}, "n_samples must be a positive int or an array of n_tasks"),
        ({"n_samples": [5, 0, 5], "n_tasks": 3}, "n_samples must be a positive int"),
        ({"n_samples": 0}, "'n_samples' parameter"),
        ({"n_features": 0}, "'n_features' parameter"),
        ({"prior_cov": -1.0}, "'prior_cov' parameter"),
    ],
)
def test_hierarchical_errors(make, params, match):
    with pytest.raises(ValueError, match=match):
        make(**params)


def test_logistic_labels_follow_sigmoid():
    X, y, groups, p = make_logistic_tasks(n_tasks=40, n_samples=500, n_features=2,
                                          return_params=True, random_state=0)
    assert set(np.unique(y)) == {0, 1}
    prob = expit(p.intercepts[groups] + np.einsum("ij,ij->i", X, p.coefs[groups]))
    # calibration: mean label in each probability bin matches the bin's mean probability
    bins = np.digitize(prob, [0.2, 0.4, 0.6, 0.8])
    for b in range(5):
        assert y[bins == b].mean() == pytest.approx(prob[bins == b].mean(), abs=0.03)


def test_logistic_and_linear_share_inputs():
    # same helper, same draw order: same X and params for the same seed
    a = make_linear_tasks(n_tasks=5, return_params=True, random_state=3)
    b = make_logistic_tasks(n_tasks=5, return_params=True, random_state=3)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[3].coefs, b[3].coefs)


def test_logistic_single_class_task_is_kept():
    # a huge intercept makes every label 1; the task is returned, not dropped
    _, y, groups = make_logistic_tasks(n_tasks=3, n_samples=5, n_features=1,
                                       prior_mean=[50.0, 0.0], prior_cov=0.0, random_state=0)
    np.testing.assert_array_equal(np.bincount(groups), [5, 5, 5])
    assert np.all(y == 1)


# ---------------------------------------------------------------- digits


def test_digits_episodes_class_split_disjoint():
    kw = dict(n_way=5, k_shot=1, n_query=2, n_episodes=40)
    X_tr, y_tr, g_tr = load_digits_episodes(split="train", random_state=0, **kw)
    X_te, y_te, g_te = load_digits_episodes(split="test", random_state=0, **kw)
    assert X_tr.shape == (40 * 5 * 3, 64)
    assert X_tr.min() == 0.0 and X_tr.max() == 1.0
    np.testing.assert_array_equal(np.unique(y_tr), np.arange(5))
    # recover the original digit of each row by matching pixels
    X, y = load_digits(return_X_y=True)
    lookup = {row.tobytes(): label for row, label in zip(X / 16.0, y)}
    digits_tr = {lookup[row.tobytes()] for row in X_tr}
    digits_te = {lookup[row.tobytes()] for row in X_te}
    assert digits_tr == {0, 1, 2, 3, 4}
    assert digits_te == {5, 6, 7, 8, 9}


def test_digits_episodes_custom_split_and_errors():
    _, y, _ = load_digits_episodes(n_way=2, k_shot=1, n_query=1, n_episodes=3,
                                   split="test", test_classes=[0, 1], random_state=0)
    assert y.shape == (12,)
    with pytest.raises(ValueError, match=r"n_way=6 but split='test' has only 5 digits"):
        load_digits_episodes(n_way=6, split="test")
    with pytest.raises(ValueError, match=r"n_way=5 but split='train' has only 2 digits"):
        load_digits_episodes(n_way=5, test_classes=range(8))
    with pytest.raises(ValueError, match="'split' parameter"):
        load_digits_episodes(split="val")
    with pytest.raises(ValueError, match=r"test_classes must be digits 0..9; got \[10\]"):
        load_digits_episodes(test_classes=[9, 10])
    with pytest.raises(ValueError, match=r"k_shot \+ n_query = 400"):
        load_digits_episodes(k_shot=200, n_query=200)
    with pytest.raises(ValueError, match="'n_way' parameter"):
        load_digits_episodes(n_way=1)


# ---------------------------------------------------------------- checkerboard


def test_checkerboard_labels_follow_a_shifted_board_per_task():
    X, y, groups, params = make_checkerboard_tasks(
        n_tasks=40, n_samples=200, frequency=2.0, return_params=True, random_state=0
    )
    assert X.shape == (8000, 2) and np.all(np.abs(X) <= 1)
    assert groups.tolist() == np.repeat(np.arange(40), 200).tolist()
    assert params.phase.shape == (40, 2)
    assert np.all((params.phase >= 0) & (params.phase <= 2 * np.pi))
    board = np.sin(2.0 * X + params.phase[groups]).prod(axis=1) > 0
    np.testing.assert_array_equal(y, board.astype(int))
    # Tasks differ in position, so the same point gets both labels across tasks.
    assert 0.4 < y.mean() < 0.6
    np.testing.assert_array_equal(make_checkerboard_tasks(40, 200, frequency=2.0,
                                                          random_state=0)[1], y)


def test_checkerboard_errors():
    with pytest.raises(ValueError, match="frequency"):
        make_checkerboard_tasks(frequency=0)


def test_checkerboard_random_state_seeds_phases_and_rows():
    a = make_checkerboard_tasks(n_tasks=4, n_samples=10, return_params=True, random_state=0)
    b = make_checkerboard_tasks(n_tasks=4, n_samples=10, return_params=True, random_state=1)
    assert not np.allclose(a[0], b[0]) and not np.allclose(a[3].phase, b[3].phase)
    c = make_checkerboard_tasks(n_tasks=4, n_samples=10, return_params=True,
                                random_state=np.random.RandomState(1))
    np.testing.assert_array_equal(b[0], c[0])
    np.testing.assert_array_equal(b[3].phase, c[3].phase)


def test_sinusoid_noise_is_drawn_from_random_state():
    residuals = []
    for seed in (0, 1):
        X, y, groups, p = make_sinusoid_tasks(n_tasks=20, n_samples=10, noise=0.3,
                                              return_params=True, random_state=seed)
        residuals.append(y - p.amplitude[groups] * np.sin(X[:, 0] - p.phase[groups]))
    assert abs(np.corrcoef(*residuals)[0, 1]) < 0.3  # independent draws, not one stream
    X, y, _ = make_sinusoid_tasks(n_tasks=20, n_samples=10, noise=0.3,
                                  random_state=np.random.RandomState(1))
    np.testing.assert_array_equal(y, make_sinusoid_tasks(n_tasks=20, n_samples=10, noise=0.3,
                                                         random_state=1)[1])


@pytest.mark.parametrize("indent", ["", "    "])
def test_shared_parameter_docs_take_the_indentation_of_their_place(indent):
    # Regression: Python 3.13 compiles docstrings without their common indentation, and
    # the shared parameters kept the old one, so numpydoc and help() read n_samples and
    # the rest as part of n_tasks's description.
    from metasklearn.datasets import _with_shared_params

    template = f"Summary.\n\n{indent}Parameters\n{indent}----------\n{indent}{{params}}\n" \
               f"{indent}noise : float\n{indent}    The noise.\n"
    lines = _with_shared_params(template).splitlines()
    names = [line for line in lines if " : " in line and not line.startswith(indent + " ")]
    assert [line.split(" : ")[0] for line in names] == [
        indent + name for name in ("n_tasks", "n_samples", "n_features", "prior_mean",
                                   "prior_cov", "noise")]
    for name in ("make_linear_tasks", "make_logistic_tasks"):
        doc = getattr(datasets, name).__doc__
        assert "{params}" not in doc
        assert doc.count("\n    n_samples : ") == 1 or doc.count("\nn_samples : ") == 1


@pytest.mark.parametrize("sizes", [[2.5, 3.0], [2.0, 3.0]])
def test_hierarchical_n_samples_rejects_float_sizes(sizes):
    from metasklearn.datasets import make_linear_tasks, make_logistic_tasks

    for make in (make_linear_tasks, make_logistic_tasks):
        with pytest.raises(ValueError, match="n_samples must be a positive int or an array"):
            make(n_tasks=2, n_samples=sizes, n_features=1, random_state=0)


def test_prior_cov_must_be_symmetric():
    from metasklearn.datasets import make_linear_tasks

    # positive definite lower triangle (eigvalsh alone would accept it), but not symmetric
    with pytest.raises(ValueError, match="symmetric positive semi-definite"):
        make_linear_tasks(n_tasks=2, n_features=1, prior_cov=[[1.0, 0.5], [0.0, 1.0]],
                          random_state=0)


def test_checkerboard_phases_cover_the_full_period():
    from metasklearn.datasets import make_checkerboard_tasks

    *_, params = make_checkerboard_tasks(n_tasks=400, n_samples=1, return_params=True,
                                         random_state=0)
    phase = params.phase
    assert np.all((phase >= 0) & (phase <= 2 * np.pi))
    # U[0, 2 pi]: about half of each coordinate lies above pi, and the range is covered
    np.testing.assert_allclose((phase > np.pi).mean(axis=0), 0.5, atol=0.08)
    assert np.all(phase.max(axis=0) > 1.9 * np.pi) and np.all(phase.min(axis=0) < 0.1 * np.pi)


def test_a_range_of_one_value_draws_that_value():
    X, y, _, params = make_sinusoid_tasks(n_tasks=3, n_samples=4, amplitude_range=(2.0, 2.0),
                                          phase_range=(0.5, 0.5), return_params=True,
                                          random_state=0)
    np.testing.assert_array_equal(params.amplitude, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(params.phase, [0.5, 0.5, 0.5])
    np.testing.assert_allclose(y, 2.0 * np.sin(X[:, 0] - 0.5))


def test_a_prior_cov_of_the_wrong_length_is_named_by_its_own_shape():
    with pytest.raises(ValueError, match=r"prior_cov must be a variance, 3 variances or a "
                                         r"\(3, 3\) matrix; got shape \(2,\)"):
        make_linear_tasks(n_tasks=2, n_features=2, prior_cov=[1.0, 2.0], random_state=0)


@pytest.mark.parametrize("make", [make_linear_tasks, make_logistic_tasks])
@pytest.mark.parametrize("params, match", [
    ({"prior_mean": [np.nan, 0.0]}, "prior_mean must be finite"),
    ({"prior_mean": [0.0, np.inf]}, "prior_mean must be finite"),
    ({"prior_cov": [np.inf, 1.0]}, "prior_cov must be finite"),
])
def test_a_non_finite_prior_is_refused(make, params, match):
    # Regression: it drew NaN parameters, so NaN targets (linear) or, silently, labels
    # that are all 0 (logistic: a NaN probability is never above a uniform draw).
    with pytest.raises(ValueError, match=match):
        make(n_tasks=2, n_samples=3, n_features=1, random_state=0, **params)
