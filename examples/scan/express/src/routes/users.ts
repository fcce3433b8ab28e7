import { Router, Request, Response } from 'express';
import type { ListQuery, NewUser, User } from '../types';

const router = Router();

async function listUsers(req: Request<{}, User[], never, ListQuery>, res: Response<User[]>) {
  const { limit, offset = '0' } = req.query;
  res.json([]);
}

router.get('/', listUsers);

// gatehouse: scopes=users:write operationId=createUser
router.post('/', (req: Request<{}, User, NewUser>, res: Response<User>) => {
  res.status(201).json({ id: 1, role: 'member', tags: [], ...req.body });
});

router.get('/:userId(\\d+)', (req: Request, res: Response) => {
  const tenant = req.get('X-Tenant');
  res.json({ id: req.params.userId, tenant, verbose: req.query['verbose'] });
});

export default router;
