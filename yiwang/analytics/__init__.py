"""Analytics: rollups filled incrementally from case events, the 三率 and 数字城管 evaluations,
and the reports built on them. No dashboard or map query scans the case table."""
