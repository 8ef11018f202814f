"""Inspection rounds on the test points (测评点位督查): checklists as data, rounds and their points,
inspections recorded from a phone (offline too), failures routed as cases, re-inspection, scores."""
