"""城市安全风险监测预警 (monitoring): persistence only."""
