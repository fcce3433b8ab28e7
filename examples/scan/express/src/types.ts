export type Role = 'admin' | 'member';

export interface User {
  id: number;
  name: string;
  email?: string;
  role: Role;
  tags: string[];
}

export interface NewUser {
  name: string;
  email?: string;
  role?: Role;
  tags?: Array<string>;
  settings?: Record<string, boolean>;
}

export interface ListQuery {
  limit?: string;
  offset?: string;
  role?: Role;
}
