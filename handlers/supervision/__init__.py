"""The leading group office: escalation, its actions, overdue lists, statistics, rankings."""
