"""Statistics for dashboards (三率, the unit sheet, couriers, series, heat map) and the ledger."""
