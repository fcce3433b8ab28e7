const { Router } = require('express');

const admin = Router();

admin.post('/:orderId/refund', (req, res) => {
  const key = req.headers['idempotency-key'];
  res.json({ refunded: req.params.orderId, key, amount: req.body.amount });
});

admin.all('/debug/*', (req, res) => res.end());

module.exports = admin;
