"""The review summary CI prints after synth: stacks, resources by type, acknowledgements by rule."""

from __future__ import annotations

from collections import Counter

from mlplatform.cloud_assembly import SynthesizedStack, nag_acknowledgements


def render_summary(stacks: list[SynthesizedStack]) -> str:
    lines = [f"Stacks ({len(stacks)}):"]
    width = max((len(s.display_name) for s in stacks), default=10)
    for stack in sorted(stacks, key=lambda s: s.display_name):
        lines.append(
            f"  {stack.display_name:<{width}}  {len(stack.resources):>4} resources  ({stack.region})"
        )
    by_type = Counter(r.get("Type", "?") for s in stacks for r in s.resources.values())
    lines.append(f"\nResources by type ({sum(by_type.values())} in all):")
    for kind, count in sorted(by_type.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"  {count:>5}  {kind}")
    acks = nag_acknowledgements(stacks)
    by_rule = Counter(a.base_rule for a in acks)
    lines.append(
        f"\ncdk-nag acknowledgements by rule ({len(acks)} in all, each on its resource; docs/nag-acknowledgements.md):"
    )
    for rule, count in sorted(by_rule.items()):
        lines.append(f"  {count:>5}  {rule}")
    return "\n".join(lines)
