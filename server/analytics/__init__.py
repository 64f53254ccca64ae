"""Analytics: metrics over a period, cohorts, LTV, the deal funnel and support figures."""
