"""The one exception type whose message is meant for the user."""


class PipelineError(Exception):
    """A problem the user can fix: its message says what is wrong and where.

    Steps print the message alone (no traceback), mark their MLflow run FAILED
    and exit with status 1.
    """
