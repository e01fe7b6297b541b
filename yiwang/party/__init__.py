"""Party-building-led grids: party organisations and members, 双报到 to communities and grids,
流动哨兵 of the new employment groups, and volunteers with their service-hour ledger."""
