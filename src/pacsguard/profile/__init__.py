"""The rules: PS3.15 Table E.1-1 (generated), its options, the private tag knowledge base,
and the policy that combines them."""

from pacsguard.profile.actions import Action, resolve_choice
from pacsguard.profile.options import BASIC_PROFILE_CODE, OPTION_CODES, Option, parse_option
from pacsguard.profile.policy import DEFAULT_OPTIONS, Policy, load_policy, policy_from_mapping
from pacsguard.profile.private_kb import creator_known, disposition
from pacsguard.profile.table import ALL_RULES, E11Rule, rule_for

__all__ = [
    "ALL_RULES",
    "BASIC_PROFILE_CODE",
    "DEFAULT_OPTIONS",
    "OPTION_CODES",
    "Action",
    "E11Rule",
    "Option",
    "Policy",
    "creator_known",
    "disposition",
    "load_policy",
    "parse_option",
    "policy_from_mapping",
    "resolve_choice",
    "rule_for",
]
