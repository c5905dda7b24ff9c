"""Read models (import name ``salur_cases.projections``): tables, projections, explain engine."""
