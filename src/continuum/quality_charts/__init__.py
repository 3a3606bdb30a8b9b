"""The programme's control charts page (/quality/control-charts): the risk-adjusted CUSUM
(deterioration and improvement), VLAD and observed vs expected survival over the ended runs
in order of start, each run's risk from its stored RESP or SAVE score
(docs/clinical/reference.md §7.4–7.7). Read-only; the numbers come from the pure
``continuum.control_charts`` package."""
