/** What the lesson panels ask of the lesson controller (events up). */
export type LessonAction =
  { op: 'start'; id: string } | { op: 'next' } | { op: 'back' } | { op: 'keep' } | { op: 'print' } | { op: 'end' };
