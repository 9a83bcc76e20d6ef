"""风险隐患与事故 (risk): persistence only."""
