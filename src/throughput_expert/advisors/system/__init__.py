"""The system model's solver and planner: what a change does to the model, and the plan that
reaches a target step by step (``project``: ceilings and utilizations; ``plan``: the steps)."""

from throughput_expert.advisors.system.plan import Plan, Step, plan
from throughput_expert.advisors.system.project import Projection, apply, project

__all__ = ["Plan", "Projection", "Step", "apply", "plan", "project"]
