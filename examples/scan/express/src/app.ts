// A small orders API: the Express example `gatehouse scan` is tested against.
import express, { Request, Response } from 'express';
import usersRouter from './routes/users';
import { requireAuth } from './auth';

const app = express();
app.use(express.json());

// gatehouse: public
app.get('/healthz', (req: Request, res: Response) => {
  res.json({ status: 'ok' });
});

app.use('/api/users', requireAuth, usersRouter);
app.use('/api/orders', require('./routes/orders'));

app.listen(3000);

export default app;
