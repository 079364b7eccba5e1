"""Domain errors. Each maps to one CLI exit status and one clear line."""

from __future__ import annotations


class GovflowError(Exception):
    """Base of every error govflow raises on purpose."""

    exit_code = 2


class BadInputError(GovflowError):
    """The caller gave something unusable: a missing file, a bad slug, bad JSON."""

    exit_code = 2


class NotFoundError(BadInputError):
    """A named model, version or decision does not exist."""


class ConflictError(BadInputError):
    """The request contradicts stored state: a duplicate version, an illegal stage move."""


class PermissionDeniedError(GovflowError):
    """The actor lacks the role for the action (or separation of duties forbids it)."""

    exit_code = 1


class AuthNotAcceptedError(PermissionDeniedError):
    """An approval whose authentication the tier does not count: refused before it is recorded."""

    exit_code = 2


class PolicyError(BadInputError):
    """A policy file is invalid; the message names the path of the bad field."""
