"""A run's address as the portal hands it over (`HX-Push-Url`, or a redirect's `Location`): each step's address
carries its step number (`?at=<n>`, the browser's history entry), which the run's forms and its id leave out."""

from urllib.parse import urlsplit


def run_path(url: str) -> str:
    """The run page's path, without host or step number: its forms post under it (`<path>answer/`, `<path>back/`)."""
    return urlsplit(url).path


def run_id(url: str) -> str:
    """The run's id, the last part of its path."""
    return run_path(url).rstrip("/").rsplit("/", 1)[1]
