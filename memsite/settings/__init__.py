"""Settings, split by concern. Each module reads its part of the environment
through memsite.env, so a bad value fails at start-up with the variable named."""

from memsite.settings.api import *  # noqa: F403
from memsite.settings.base import *  # noqa: F403
from memsite.settings.costs import *  # noqa: F403
from memsite.settings.database import *  # noqa: F403
from memsite.settings.logging import *  # noqa: F403
from memsite.settings.security import *  # noqa: F403
from memsite.settings.storage import *  # noqa: F403
from memsite.settings.tasks import *  # noqa: F403
from memsite.settings.throttling import *  # noqa: F403
