// tsconfig's node10 resolution ignores package "exports"; point the subpath at its types.
declare module '@electric-sql/pglite/vector' {
  export { vector } from '@electric-sql/pglite/dist/vector/index';
}
