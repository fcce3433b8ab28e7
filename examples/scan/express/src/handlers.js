exports.listOrders = (req, res) => res.json([]);
exports.cancelOrder = (req, res) => res.status(204).end();
