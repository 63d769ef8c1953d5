
export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[]

export type Database = {
  
  "public": {
          Tables: {
            [_ in never]: never
          }
          Views: {
            [_ in never]: never
          }
          Functions: {
            "abandon_cart":
{ Args: { "p_cart_id": string,"p_reason": string }; Returns: Json
                           },
"add_item":
{ Args: { "p_cart_id": string,"p_expected_version"?: number,"p_idempotency_key"?: string,"p_options"?: Json,"p_product_id": string,"p_quantity"?: number }; Returns: Json
                           },
"add_staff_member":
{ Args: { "p_role"?: string,"p_store_id": string,"p_user_id": string }; Returns: Json
                           },
"add_to_queue":
{ Args: { "p_customer_id": string,"p_idempotency_key"?: string,"p_location_id": string }; Returns: Json
                           },
"call_next":
{ Args: { "p_idempotency_key"?: string,"p_location_id": string }; Returns: Json
                           },
"check_alerts":
{ Args: Record<PropertyKey, never>; Returns: Json
                           },
"complete_checkout":
{ Args: { "p_cart_id": string,"p_checkout_ref": string,"p_expected_version"?: number,"p_idempotency_key"?: string,"p_lock_token": string,"p_paid_total_cents": number }; Returns: Json
                           },
"complete_queue_entry":
{ Args: { "p_entry_id": string }; Returns: Json
                           },
"expire_cart_locks":
{ Args: Record<PropertyKey, never>; Returns: Json
                           },
"get_cart":
{ Args: { "p_cart_id": string }; Returns: Json
                           },
"get_cart_history":
{ Args: { "p_cart_id": string }; Returns: Json
                           },
"get_or_create_cart":
{ Args: { "p_customer_id"?: string,"p_device_id"?: string,"p_location_id": string }; Returns: Json
                           },
"get_queue":
{ Args: { "p_location_id": string }; Returns: Json
                           },
"get_staff_home":
{ Args: Record<PropertyKey, never>; Returns: Json
                           },
"get_store_health":
{ Args: { "p_since"?: string,"p_store_id": string }; Returns: Json
                           },
"leave_queue":
{ Args: { "p_entry_id": string }; Returns: Json
                           },
"list_open_carts":
{ Args: { "p_location_id": string }; Returns: Json
                           },
"list_store_alerts":
{ Args: { "p_store_id": string }; Returns: Json
                           },
"lock_cart":
{ Args: { "p_cart_id": string,"p_checkout_ref"?: string,"p_expected_version"?: number,"p_idempotency_key"?: string,"p_ttl_seconds"?: number }; Returns: Json
                           },
"merge_duplicate_carts":
{ Args: Record<PropertyKey, never>; Returns: Json
                           },
"merge_store_duplicate_carts":
{ Args: { "p_reason": string,"p_store_id": string }; Returns: Json
                           },
"record_refusal":
{ Args: { "p_cart_id"?: string,"p_code": string,"p_entry_id"?: string,"p_location_id"?: string,"p_rpc": string }; Returns: Json
                           },
"release_cart_lock":
{ Args: { "p_cart_id": string,"p_reason": string }; Returns: Json
                           },
"remove_item":
{ Args: { "p_cart_id": string,"p_expected_version"?: number,"p_idempotency_key"?: string,"p_item_id": string }; Returns: Json
                           },
"repair_cart_totals":
{ Args: { "p_cart_id": string,"p_reason": string }; Returns: Json
                           },
"set_item_quantity":
{ Args: { "p_cart_id": string,"p_expected_version"?: number,"p_idempotency_key"?: string,"p_item_id": string,"p_quantity": number }; Returns: Json
                           },
"unlock_cart":
{ Args: { "p_cart_id": string,"p_expected_version"?: number,"p_idempotency_key"?: string,"p_lock_token": string }; Returns: Json
                           },
"update_cart_lock":
{ Args: { "p_cart_id": string,"p_checkout_ref": string,"p_expected_version"?: number,"p_idempotency_key"?: string,"p_lock_token": string }; Returns: Json
                           }
          }
          Enums: {
            [_ in never]: never
          }
          CompositeTypes: {
            [_ in never]: never
          }
        }
}

type DatabaseWithoutInternals = Omit<Database, '__InternalSupabase'>

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
  ? (DefaultSchema["Tables"] & DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
      Row: infer R
    }
    ? R
    : never
  : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Insert: infer I
    }
    ? I
    : never
  : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Update: infer U
    }
    ? U
    : never
  : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never = never
> = DefaultSchemaEnumNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
  ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
  : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never = never
> = PublicCompositeTypeNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
  ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
  : never

export const Constants = {
  "public": {
          Enums: {
            
          }
        }
} as const
