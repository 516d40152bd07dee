"""Loads the shipped profiles (profiles_data) into the database; used by a migration and by
`manage.py sync_profiles`. Takes the model classes so that migrations can pass historical ones."""

from __future__ import annotations

from typing import Any

from .profiles_data import PROFILES

RULE_FIELDS = (
    "rule_id",
    "title",
    "kind",
    "scope",
    "applies_to",
    "params",
    "consequences",
    "quote",
    "source",
)


def snapshot(profile: Any, rules: list[Any]) -> dict:
    return {
        "options": profile.options,
        "rules": [
            {
                **{f: getattr(r, f) for f in RULE_FIELDS},
                "enabled": r.enabled,
                "position": r.position,
            }
            for r in sorted(rules, key=lambda r: r.position)
        ],
    }


def load_builtin_profiles(RuleProfile: Any, Rule: Any, ProfileVersion: Any) -> list[str]:
    """Create the shipped profiles, or bring them up to the shipped data with a new version.
    Returns the names that changed."""
    changed = []
    for data in PROFILES:
        profile = RuleProfile.objects.filter(name=data["name"]).first()
        wanted = {
            "options": data["options"],
            "rules": [
                {**{f: r[f] for f in RULE_FIELDS}, "enabled": True, "position": i}
                for i, r in enumerate(data["rules"])
            ],
        }
        if profile is not None:
            current = snapshot(profile, list(Rule.objects.filter(profile=profile)))
            if current == wanted:
                continue
            Rule.objects.filter(profile=profile).delete()
            profile.version += 1
        else:
            profile = RuleProfile(name=data["name"], version=1)
        profile.description = data["description"]
        profile.builtin = True
        profile.options = data["options"]
        profile.save()
        Rule.objects.bulk_create([Rule(profile=profile, **r) for r in wanted["rules"]])
        ProfileVersion.objects.create(
            profile=profile, number=profile.version, snapshot=wanted, note="系统内置方案"
        )
        changed.append(profile.name)
    return changed
