// Events of user notifications (contract section 4).
export interface NoticePayload {
  message: string;
}

export interface NotificationUpdatePayload {
  unread_count: number;
}

declare module '../../core/realtime/realtime.types.js' {
  interface RealtimeEventMap {
    notice: NoticePayload;
    notification_update: NotificationUpdatePayload;
  }
}
