import { Router, Request, Response } from 'express';

const router = Router();

async function listUsers(req: Request, res: Response) {
  const { limit, offset = '0' } = req.query;
  const role = req.query.role;
  res.json({ limit, offset, role });
}

router.get('/', listUsers);

// gatehouse: scopes=users:write operationId=createUser
router.post('/', (req: Request, res: Response) => {
  res.status(201).json(req.body);
});

router.get('/:userId(\\d+)', (req: Request, res: Response) => {
  const tenant = req.get('X-Tenant');
  res.json({ id: req.params.userId, tenant, verbose: req.query['verbose'] });
});

export default router;
