"""physax's shared vocabulary: the case schema, PDE definitions, fields and I/O.

Importing ``phys`` does not import JAX.
"""

from phys.case import Case, CaseError
from phys.errors import ResumeError, SolveError
from phys.fields import Fields

__all__ = ["Case", "CaseError", "Fields", "ResumeError", "SolveError"]
