"""AdaptationCurveDisplay: the adaptation curve as a plot, in scikit-learn's Display style."""

import warnings

import numpy as np

from ._adaptation_curve import BASELINES, adaptation_curve

_LABELS = {"meta": "meta-learned", "scratch": "scratch", "pooled": "pooled"}


def _pyplot(caller):
    """``matplotlib.pyplot``, or an ImportError saying that ``caller`` needs it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(f"{caller} needs matplotlib: pip install matplotlib.") from error
    return plt


class AdaptationCurveDisplay:
    """Adaptation curve: held-out task score against shots, per method.

    One line per method (the meta-estimator and each baseline): the mean
    over held-out tasks of the query score at each shot count, with a band
    of its 95 % interval (1.96 standard errors over tasks, each column of
    ``scores`` counted as one task: a task held out by several splits, as
    ``GroupShuffleSplit`` may, narrows the band too much). Build it with
    :meth:`from_estimator`, or from a result of :func:`adaptation_curve`
    with :meth:`from_result`. Needs matplotlib.

    Parameters
    ----------
    shots : array-like of shape (n_shots,)
        Shot counts, increasing.
    scores : dict of str to array-like of shape (n_shots, n_tasks)
        Scores per method; ``"meta"``, ``"scratch"`` and ``"pooled"`` get
        the labels "meta-learned", "scratch", "pooled", other keys their own.
    score_name : str, default=None
        Y-axis label; ``None`` gives "score".
    per_class : bool, default=False
        Whether ``shots`` count rows per class (the x-axis label says so).

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the curves.
    figure_ : matplotlib Figure
        Figure containing the curves.
    lines_ : dict of str to matplotlib Line2D
        The mean curve of each method.
    fill_between_ : dict of str to matplotlib PolyCollection
        The 95 % band of each method.

    See Also
    --------
    adaptation_curve : Compute the scores.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from metasklearn.model_selection import AdaptationCurveDisplay
    >>> scores = {"meta": np.array([[0.6, 0.7], [0.8, 0.9]]),
    ...           "scratch": np.array([[0.2, 0.3], [0.6, 0.7]])}
    >>> display = AdaptationCurveDisplay(shots=[1, 5], scores=scores).plot()
    >>> sorted(display.lines_)
    ['meta', 'scratch']
    >>> display.lines_["meta"].get_ydata()
    array([0.65, 0.85])
    """

    def __init__(self, *, shots, scores, score_name=None, per_class=False):
        self.shots = shots
        self.scores = scores
        self.score_name = score_name
        self.per_class = per_class

    def plot(self, ax=None, *, negate_score=False, score_name=None, line_kw=None,
             fill_between_kw=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` makes a new figure.
        negate_score : bool, default=False
            Plot the negated scores: errors from a ``neg_*`` scoring, as
            :class:`~sklearn.model_selection.LearningCurveDisplay` does.
        score_name : str, default=None
            Y-axis label; ``None`` takes the display's ``score_name``
            (without its ``neg_`` prefix when ``negate_score``).
        line_kw : dict, default=None
            Keyword arguments of every ``ax.plot`` call (the mean lines); they
            override the default ``marker="o"``.
        fill_between_kw : dict, default=None
            Keyword arguments of every ``ax.fill_between`` call (the bands).

        Returns
        -------
        display : AdaptationCurveDisplay
            The display, with ``ax_``, ``figure_``, ``lines_`` and
            ``fill_between_`` set.
        """
        plt = _pyplot("AdaptationCurveDisplay.plot")
        if ax is None:
            _, ax = plt.subplots()
        shots = np.asarray(self.shots)
        if score_name is None:
            score_name = self.score_name or "score"
            if negate_score and score_name.startswith("neg_"):
                score_name = score_name[len("neg_"):]
        self.lines_, self.fill_between_ = {}, {}
        for name, scores in self.scores.items():
            scores = np.asarray(scores, dtype=float) * (-1.0 if negate_score else 1.0)
            if scores.ndim != 2 or scores.shape[0] != shots.shape[0]:
                raise ValueError(
                    f"scores[{name!r}] must have one row per shot count ({shots.shape[0]}) "
                    f"and one column per task; got shape {scores.shape}."
                )
            undefined = np.isnan(scores).any(axis=1)
            if undefined.any():
                # A NaN mean is not drawn; the point would vanish without a word.
                warnings.warn(
                    f"scores[{name!r}] holds NaN at shots {shots[undefined].tolist()}, so "
                    "its mean there is NaN and not drawn. A score undefined on a task's "
                    "query rows (R² on one row), or a failed fit under error_score=np.nan, is "
                    "NaN: give each task two query rows or more, use another scoring, or "
                    "drop those tasks' columns.",
                    UserWarning,
                )
            mean = scores.mean(axis=1)
            n_tasks = scores.shape[1]
            sem = scores.std(axis=1, ddof=1) / np.sqrt(n_tasks) if n_tasks > 1 else 0 * mean
            # The default marker is a default: line_kw may replace it (marker=None too).
            (line,) = ax.plot(shots, mean, label=_LABELS.get(name, name),
                              **{"marker": "o", **(line_kw or {})})
            kw = {"alpha": 0.2, "color": line.get_color(), **(fill_between_kw or {})}
            self.fill_between_[name] = ax.fill_between(shots, mean - 1.96 * sem,
                                                       mean + 1.96 * sem, **kw)
            self.lines_[name] = line
        # As LearningCurveDisplay: a log axis once the sizes span an order of magnitude.
        if shots.max() / shots.min() >= 10:
            ax.set_xscale("log")
        # The shot counts themselves as ticks: a log axis would label powers of ten.
        ax.set_xticks(shots, labels=[str(k) for k in shots.tolist()])
        ax.minorticks_off()
        ax.set_xlabel(f"shots per {'class' if self.per_class else 'task'}")
        ax.set_ylabel(score_name)
        ax.legend()
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, X, y, groups, *, shots=None, per_class=False,
                       baselines=BASELINES, cv=5, scoring=None, n_jobs=None, random_state=0,
                       error_score="raise", ax=None, negate_score=False, score_name=None,
                       line_kw=None, fill_between_kw=None):
        """Compute the adaptation curve (:func:`adaptation_curve`) and plot it.

        Parameters
        ----------
        estimator : MetaEstimator or Pipeline ending in one
            Unfitted; cloned for each split.
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows of every task.
        y : array-like of shape (n_samples,)
            Targets.
        groups : array-like of shape (n_samples,)
            Task id of each row.
        shots : array-like of int, default=None
            Support rows per held-out task (per class if ``per_class``);
            ``None`` as in :func:`adaptation_curve`.
        per_class : bool, default=False
            Count ``shots`` per class.
        baselines : sequence of "scratch", "pooled" or (name, estimator), \
                default=("scratch", "pooled")
            Baselines beside the meta-estimator (see :func:`adaptation_curve`).
        cv : int, cross-validation generator, iterable or None, default=5
            Split of the tasks (an int: ``GroupKFold``; see :func:`adaptation_curve`).
        scoring : str or callable, default=None
            Metric on the query rows; ``None`` uses each learner's ``score``.
        n_jobs : int, default=None
            Splits run in parallel through joblib.
        random_state : int, RandomState instance or None, default=0
            Seeds the support/query splits.
        error_score : "raise" or float, default="raise"
            Score of a task's fit that fails (see :func:`adaptation_curve`).
        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` makes a new figure.
        negate_score : bool, default=False
            Plot the negated scores (errors from a ``neg_*`` scoring).
        score_name : str, default=None
            Y-axis label; ``None`` names the scoring.
        line_kw : dict, default=None
            Keyword arguments of the mean lines' ``ax.plot``.
        fill_between_kw : dict, default=None
            Keyword arguments of the bands' ``ax.fill_between``.

        Returns
        -------
        display : AdaptationCurveDisplay
            The plotted display; the scores are in its ``scores`` (call
            :func:`adaptation_curve` for the held-out task ids too).
        """
        # Before the curve, which may take long: its scores would be lost to the error.
        _pyplot("AdaptationCurveDisplay.from_estimator")
        result = adaptation_curve(
            estimator, X, y, groups, shots=shots, per_class=per_class, baselines=baselines,
            cv=cv, scoring=scoring, n_jobs=n_jobs, random_state=random_state,
            error_score=error_score,
        )
        return cls.from_result(result, ax=ax, negate_score=negate_score, score_name=score_name,
                               line_kw=line_kw, fill_between_kw=fill_between_kw)

    @classmethod
    def from_result(cls, result, *, ax=None, negate_score=False, score_name=None, line_kw=None,
                    fill_between_kw=None):
        """Plot a result of :func:`adaptation_curve`.

        Parameters
        ----------
        result : Bunch
            As :func:`adaptation_curve` returns it.
        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` makes a new figure.
        negate_score : bool, default=False
            Plot the negated scores (errors from a ``neg_*`` scoring).
        score_name : str, default=None
            Y-axis label; ``None`` names the scoring.
        line_kw : dict, default=None
            Keyword arguments of the mean lines' ``ax.plot``.
        fill_between_kw : dict, default=None
            Keyword arguments of the bands' ``ax.fill_between``.

        Returns
        -------
        display : AdaptationCurveDisplay
            The plotted display.
        """
        display = cls(shots=result.shots, scores=result.scores, score_name=result.score_name,
                      per_class=result.per_class)
        return display.plot(ax, negate_score=negate_score, score_name=score_name,
                            line_kw=line_kw, fill_between_kw=fill_between_kw)
