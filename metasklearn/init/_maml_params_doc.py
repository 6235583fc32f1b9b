"""The parameters and attributes that MAML, FOMAML and Reptile document alike.

Kept apart from the strategies' code: one text, spliced into each class's
numpydoc docstring, so the three cannot drift apart.
"""

MLP_META_INIT_PARAMS = """
    Parameters
    ----------
    n_iter : int, default=1000
        Meta-iterations (outer Adam steps).
    meta_batch_size : int, default=25
        Tasks per meta-iteration, drawn at random (without replacement when
        there are enough).
    meta_learning_rate : float, default=1e-3
        Step size of the outer Adam optimiser.
    shots : int, default=None
        Support rows per task in meta-training: the inner ``fit`` sees these,
        the rest of the task's rows are its query rows. Set it to the number
        of rows new tasks bring to ``adapt`` (batch sizes and schedules depend
        on it). ``None`` means half the rows of the smallest task.
    max_inner_iter : int, default=None
        Truncate the inner ``fit`` to this many epochs in meta-training
        (``adapt`` always runs the estimator's full ``fit``). ``None`` means
        the estimator's ``max_iter``.
    label_space : {"auto", "shared", "episodic"}, default="auto"
        Classifiers only. "shared": a label means the same in every task; the
        whole network, output layer included, is learned (one output per
        known label). "episodic": labels are arbitrary per task (N-way
        episodes, N may vary); every class's output weights start from one
        learned vector, so the order of labels cannot matter. "auto" decides
        from the data (see ``label_space_``).
    episodic_head : {"vector", "prototype"}, default="vector"
        Episodic tasks only: how a task's output layer starts. "vector": every
        class starts from the one learned vector (the first inner step then
        only separates classes in the output layer). "prototype": that vector
        plus a nearest-class-mean rule on the task's support rows in the
        learned last hidden layer, ``w_c = 2 s mu_c``, ``b_c = -s ||mu_c||^2``
        with a learned scale ``s`` (Proto-MAML, Triantafillou et al., 2020);
        still permutation-invariant. The meta-gradient flows through the class
        means into the hidden layers. Ignored for shared labels and
        regression.
    validation_fraction : float, default=None
        Hold out this fraction of the training tasks (never trained on) and
        keep the start whose validation loss is lowest, as
        ``MLPClassifier(early_stopping=True)`` keeps its best weights: about
        20 times in a run (every ``ceil(n_iter / 20)`` meta-iterations, and
        at the end) the query loss after the estimator's
        whole ``fit`` (as ``adapt`` runs it, not truncated by
        ``max_inner_iter``) is measured on a fixed random subset of at most
        500 held-out tasks with a fixed support/query split. Guards against a
        meta-training run that drifts after its best point. ``None``: train
        on every task and keep the last start.
    ema_decay : float in [0, 1), default=None
        Return an exponential moving average of the start over the
        meta-iterations instead of the last one (Polyak averaging; bias
        corrected as Adam's moments, so a short run averages all of its
        iterates): it smooths out the noise of the last meta-batches. The
        window ``1 / (1 - ema_decay)`` should be a small part of ``n_iter``
        (0.999, about the last thousand, for 70,000). With ``validation_fraction``
        the averaged starts are the ones validated and kept. ``None``: the
        last start.

    Attributes
    ----------
    coefs_, intercepts_ : list of ndarray
        The learned starting weights (output layer: one column per known
        label, one column for two known labels as in ``MLPClassifier``, or
        one shared column for episodic tasks).
    loss_curve_ : ndarray of shape (n_iter,)
        Meta-loss per meta-iteration: mean query loss after the inner ``fit``
        (Reptile: the inner ``fit``'s training loss in its last epoch).
    label_space_ : {"shared", "episodic", "regression"}
        The label space used.
    prototype_scale_ : float or None
        The learned scale ``s`` of the prototype head; ``None`` when it is
        not used.
    classes_ : ndarray
        Known labels (classifiers).
    shots_ : int
        Support rows per task used in meta-training.
    best_iter_ : int
        The meta-iteration whose start was kept (``n_iter`` without
        validation).
    validation_loss_curve_, validation_iter_ : ndarray or None
        The validation losses and the meta-iterations they were measured
        at; ``None`` without ``validation_fraction``.
    transformer_ : Pipeline or None
        For a Pipeline base estimator: its transformer steps, fitted on all
        meta-training rows (new tasks' rows go through them unchanged).
"""
