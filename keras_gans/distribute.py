"""tf.distribute helpers: which process may write files."""

import json
import os


def is_chief():
    """True unless TF_CONFIG names this process a non-chief worker.

    In a multi-worker cluster the chief is the task of type "chief", or
    worker 0 when the cluster has no chief. Only the chief writes samples,
    checkpoints, histories and exports, so two workers never clobber a file.
    """
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = config.get("task") or {}
    cluster = config.get("cluster") or {}
    task_type, index = task.get("type"), int(task.get("index", 0))
    if task_type is None:
        return True
    if task_type == "chief":
        return True
    if task_type == "worker":
        return "chief" not in cluster and index == 0
    return False
