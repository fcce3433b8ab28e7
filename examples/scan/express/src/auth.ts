import { NextFunction, Request, Response } from 'express';

export function requireAuth(req: Request, res: Response, next: NextFunction) {
  if (!req.get('authorization')) {
    res.status(401).end();
    return;
  }
  next();
}
