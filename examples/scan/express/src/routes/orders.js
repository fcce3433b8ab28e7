const express = require('express');
const admin = require('./admin');
const handlers = require('../handlers');

const router = express.Router();

router
  .route('/:orderId')
  .get(function getOrder(req, res) {
    res.json({ id: req.params.orderId, expand: req.query.expand });
  })
  // gatehouse: scopes=orders:write
  .put((req, res) => res.json(req.body))
  .delete(handlers.cancelOrder);

// gatehouse: query=status,page:integer
router.get('/', handlers.listOrders);

router.use('/admin', admin);

module.exports = router;
