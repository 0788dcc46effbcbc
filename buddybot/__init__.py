"""BuddyBot: skills registry, overflow referrals and one-off job agreements for a Discord community."""

__version__ = "0.1.0"
